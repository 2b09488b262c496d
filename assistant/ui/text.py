"""Interface text of the web app in English and Chinese; `text(key, lang)` picks one, English as fallback."""

LANGUAGES = ("en", "zh")
LANGUAGE_CHOICES = [("English", "en"), ("中文", "zh")]

TEXT: dict[str, tuple[str, str]] = {
    "title": ("# GovData Assistant", "# 政务数据助手"),
    "signed_in": ("Signed in as **{user}** · role: **{role}**", "已登录：**{user}** · 角色：**{role}**"),
    "language": ("Language", "界面语言"),
    "tab_ask": ("Ask", "问答"),
    "tab_datasets": ("Find datasets", "找数据"),
    "tab_sql": ("SQL workbench", "SQL 工作台"),
    "tab_audit": ("Audit", "审计"),
    "chat": ("Conversation", "对话"),
    "route": ("Answer from", "回答来源"),
    "route_auto": ("Automatic", "自动"),
    "route_docs": ("Laws and guides", "法规与指南"),
    "route_datasets": ("Dataset catalog", "数据目录"),
    "route_sql": ("Approved tables (SQL)", "已批准数据表（SQL）"),
    "ask_message": ("Ask about laws, policies, services or data", "请输入关于法规、政策、服务或数据的问题"),
    "ask_send": ("Ask", "提问"),
    "routed": ("Route: **{route}** ({reason}). Change it with “Answer from” below.",
               "路由：**{route}**（{reason}）。可在下方“回答来源”中更改。"),
    "route_chosen": ("chosen by you", "由您选择"),
    "searching_docs": ("Searching the laws and guides…", "正在检索法规和指南……"),
    "searching_catalog": ("Searching the dataset catalogs…", "正在检索数据目录……"),
    "writing": ("Writing the answer…", "正在撰写回答……"),
    "closest": ("Closest sources", "最接近的来源"),
    "datasets_found": ("Datasets you may use:", "您可以使用的数据集："),
    "no_datasets": ("No datasets found.", "没有找到数据集。"),
    "sql_more": ("Open the SQL workbench for the full table, a chart and CSV.",
                 "在 SQL 工作台中查看完整结果、图表和 CSV。"),
    "dataset_query": ("Describe the data you need", "描述您需要的数据"),
    "publisher": ("Publisher", "发布机构"),
    "format": ("Format", "格式"),
    "since": ("Updated since (YYYY-MM-DD)", "更新于（YYYY-MM-DD）之后"),
    "access_level": ("Access level", "开放级别"),
    "any": ("(any)", "（全部）"),
    "search": ("Search", "搜索"),
    "updated": ("updated", "更新于"),
    "approved_pick": ("Approved datasets in these results", "结果中已批准可查询的数据集"),
    "query_dataset": ("Query this dataset", "查询此数据集"),
    "question": ("Question", "问题"),
    "dataset": ("Dataset", "数据集"),
    "all": ("(all)", "（全部）"),
    "generate": ("Generate SQL", "生成 SQL"),
    "sql_code": ("SQL (editable)", "SQL（可编辑）"),
    "check": ("Check", "检查"),
    "run": ("Run", "运行"),
    "allowed": ("allowed", "允许"),
    "rejected": ("rejected", "拒绝"),
    "rows": ("{n} row(s)", "{n} 行"),
    "row_cap": (" (row cap reached)", "（已达行数上限）"),
    "allowed_run": ("allowed and run: {n} row(s)", "已通过检查并运行：{n} 行"),
    "datasets_used": ("Datasets", "所用数据集"),
    "uncertain": ("The candidate queries disagreed: {pct}% of them gave this result. Check the SQL, or pick "
                  "another reading below and rephrase the question.",
                  "候选查询结果不一致：只有 {pct}% 得到这个结果。请核对 SQL，或参考下面的其他理解并换个问法。"),
    "withheld": ("No rows from the tables you may use: the data this question is about is not available to your "
                 "role. A data steward can grant access.",
                 "您可用的表中没有结果：这个问题涉及的数据不对您的角色开放，可向数据管理员申请权限。"),
    "alternative": ("Other reading ({votes} vote(s), {rows} row(s))", "其他理解（{votes} 票，{rows} 行）"),
    "result": ("Result", "结果"),
    "page": ("Rows {first}–{last} of {total}", "第 {first}–{last} 行，共 {total} 行"),
    "prev": ("◀ Previous", "◀ 上一页"),
    "next": ("Next ▶", "下一页 ▶"),
    "chart": ("Chart", "图表"),
    "x": ("X axis", "横轴"),
    "y": ("Y axis", "纵轴"),
    "csv": ("CSV download", "下载 CSV"),
    "writing_sql": ("Writing SQL and checking it…", "正在生成并检查 SQL……"),
    "audit_user": ("User", "用户"),
    "audit_since": ("Since (YYYY-MM-DD)", "起始日期（YYYY-MM-DD）"),
    "audit_refresh": ("Show receipts", "显示记录"),
    "audit_verify": ("Verify the chain", "校验哈希链"),
    "audit_ok": ("Chain intact: {n} receipts, head {head}", "哈希链完整：共 {n} 条记录，最新 {head}"),
    "audit_bad": ("Tampered: first bad entry {id}: {problem}", "已被篡改：第一个异常记录 {id}：{problem}"),
    "audit_only": ("Only data stewards may read the audit log.", "只有数据管理员可以查看审计日志。"),
    "error": ("error", "错误"),
}


def text(key: str, lang: str = "en", **values: object) -> str:
    english, chinese = TEXT[key]
    chosen = chinese if lang == "zh" else english
    return chosen.format(**values) if values else chosen


def language_of(accept_language: str | None) -> str:
    """zh when the browser prefers Chinese (any zh-* first), else en."""
    first = (accept_language or "").split(",")[0].strip().lower()
    return "zh" if first.startswith("zh") else "en"
