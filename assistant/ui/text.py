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
    "tab_register": ("Register", "资源登记"),
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
    "dropped_sentences": ("{n} sentence(s) removed: the passages they cite do not state them",
                          "已删除 {n} 句：所引段落并未这样说"),
    "nothing_matches": ("No dataset matches this need.", "没有与这个需求相符的数据集。"),
    "closest_publishers": ("Closest publishers", "最接近的发布机构"),
    "closest_keywords": ("Closest keywords", "最接近的关键词"),
    "matched": ("Matched", "匹配"),
    "query_in_workbench": ("Approved table: ask it questions with “Query this dataset” below.",
                           "已批准的数据表：可用下方的“查询此数据集”提问。"),
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
    "frequency": ("updates:", "更新频率："),
    "receipt_summary": ("Receipt #{id}", "凭证 #{id}"),
    "receipt_line": ("receipt #{id}, {time} UTC", "凭证 #{id}，{time}（UTC）"),
    "receipt_sources": ("sources", "来源"),
    "receipt_model": ("model", "模型"),
    "receipt_cite": ("Copy as a citation:", "复制为引用："),
    "receipt_steward": ("Check it with Replay and Verify below, or `govdata audit replay {id}` (re-runs its SQL at "
                        "the recorded data versions) and `govdata audit verify` (the whole chain).",
                        "可用下方的“重放”和“核验”检查，或运行 `govdata audit replay {id}`（按记录的数据版本重新运行"
                        "其 SQL）和 `govdata audit verify`（校验整条哈希链）。"),
    "hidden_matches": ("{n} more record(s) matching these words are not public and are not shown.",
                       "另有 {n} 条与这些词匹配的记录未公开，不予显示。"),
    "left_out": ("{columns} left out: {reason}.", "未显示 {columns}：{reason}。"),
    "quality": ("metadata quality {score}/100", "元数据质量 {score}/100"),
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
    "sdc": ("{notice}", "统计披露控制：{table} 是关于个人、住户或企业的表，只显示汇总结果。少于 {k} 个单位的组不显示，"
                        "少于 {k} 个单位计算的单元格显示为“suppressed”；计数和合计按单元格密钥法加入了扰动"
                        "（同样的单位和同样的问法总得到同样的答案）。"),
    "withheld": ("No rows from the tables you may use: the data this question is about is not available to your "
                 "role. A data steward can grant access.",
                 "您可用的表中没有结果：这个问题涉及的数据不对您的角色开放，可向数据管理员申请权限。"),
    "alternative": ("Other reading ({votes} vote(s), {rows} row(s))", "其他理解（{votes} 票，{rows} 行）"),
    "clarify": ("Your question can be read in more than one way, and the candidate queries disagreed (only {pct}% "
                "gave the result below). Did you mean:",
                "您的问题可以有不止一种理解，候选查询结果不一致（只有 {pct}% 得到下面的结果）。您是指："),
    "reading_shown": ("{explanation} — shown below, {rows} row(s)", "{explanation}——即下面的结果，{rows} 行"),
    "reading_other": ("{explanation} — {rows} row(s)", "{explanation}——{rows} 行"),
    "clarify_pick": ("Pick a reading under the conversation to see its result, or rephrase the question.",
                     "可在对话下方选择一种理解查看其结果，或换个问法。"),
    "readings": ("Other readings of the last question", "上一个问题的其他理解"),
    "reading_show": ("Show this reading", "查看这种理解"),
    "reading_result": ("Reading {n}: {explanation}", "理解 {n}：{explanation}"),
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
    "receipt_none": ("No receipt to check yet.", "还没有可核验的凭证。"),
    "receipt_verified": ("Receipt #{id} (sha256 {hash}…) is on the log and the chain is intact ({n} receipts "
                         "checked).",
                         "凭证 #{id}（sha256 {hash}…）在审计日志中，且整条哈希链完整（已校验 {n} 条记录）。"),
    "replay_same": ("Replay of #{id}: same rows ({rows}) at the recorded data versions (new receipt #{new}).",
                    "重放 #{id}：在记录的数据版本上结果相同（{rows} 行，新凭证 #{new}）。"),
    "replay_different": ("Replay of #{id}: different rows ({rows} now, {recorded} recorded; new receipt #{new}).",
                         "重放 #{id}：结果不同（现为 {rows} 行，记录为 {recorded} 行；新凭证 #{new}）。"),
    "replay_changed": ("Replay of #{id} not run: the data changed since ({changed}).",
                       "未重放 #{id}：数据版本已变化（{changed}）。"),
    "receipt_replay": ("Replay", "重放"),
    "receipt_verify": ("Verify", "核验"),
    "receipt_number": ("Receipt number", "凭证编号"),
    "audit_only": ("Only data stewards may read the audit log.", "只有数据管理员可以查看审计日志。"),
    "held_title": ("Passages held for review", "待审核的段落"),
    "held_show": ("Show held passages", "显示待审核段落"),
    "held_table": ("Held passages: instruction-like text found at ingest, kept out of searches and answers",
                   "待审核段落：入库时发现类似指令的文字，不进入检索和回答"),
    "held_count": ("{n} held passage(s), {pending} waiting for review.", "共 {n} 个待审核段落，{pending} 个尚未审核。"),
    "held_id": ("Passage id", "段落编号"),
    "held_release": ("Release (use in answers)", "放行（用于回答）"),
    "held_keep": ("Keep held", "继续保留"),
    "held_released": ("Released {id}: searches and answers use it from the next question.",
                      "已放行 {id}：下一个问题起可被检索和引用。"),
    "held_kept": ("Kept {id} held: no search or answer uses it.", "{id} 继续保留：不会被检索或引用。"),
    "register_only": ("Only data stewards may read the register.", "只有数据管理员可以查看资源登记。"),
    "register_max_score": ("Score at most", "评分不高于"),
    "register_stale": ("Stale only", "只看过期"),
    "register_show": ("Show the register", "显示登记"),
    "register_table": ("Resources, lowest quality score first", "数据资源（按质量评分从低到高）"),
    "register_count": ("{n} resources ({shown} shown)", "共 {n} 项资源（显示 {shown} 项）"),
    "target": ("Table or record id", "数据表或记录标识"),
    "grade_suggest": ("Suggest classification and grading", "生成分类分级建议"),
    "grade_table": ("Suggestions", "建议"),
    "grade_count": ("{n} suggestion(s)", "共 {n} 条建议"),
    "suggestion": ("Suggestion id", "建议编号"),
    "grade_accept": ("Accept", "采纳"),
    "grade_reject": ("Reject", "不采纳"),
    "grade_accepted": ("Accepted {id}: {target} is now {value}.", "已采纳 {id}：{target} 现为 {value}。"),
    "grade_rejected": ("Rejected {id}: nothing changed for {target}.", "未采纳 {id}：{target} 保持不变。"),
    "disclosure_button": ("Build the disclosure report", "生成披露报告"),
    "disclosure_file": ("Disclosure report (HTML, for the public)", "披露报告（HTML，可对外公开）"),
    "disclosure_ready": ("Disclosure report of {n} requests ready to download.",
                         "披露报告已生成（共 {n} 次请求），可下载。"),
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


ROUTES = ("auto", "docs", "datasets", "sql")


def route_choices(lang: str) -> list[tuple[str, str]]:
    """The Ask tab's "Answer from" choices in the page's language."""
    return [(text(f"route_{r}", lang), r) for r in ROUTES]
