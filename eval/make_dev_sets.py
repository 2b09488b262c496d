"""Build eval/datasets_dev.jsonl from hand-written queries and title patterns over ../shared/data/catalogs.

Each query was written by the team the way a citizen would ask; its relevant records are every catalog title
that matches one of its patterns (checked by hand), listed explicitly so the eval file stands on its own.
Run: python eval/make_dev_sets.py ../shared/data/catalogs
"""

import csv
import json
import re
import sys
from pathlib import Path

QUERIES = [
    # English queries, English records (US federal DCAT)
    ("en", "coal mine deaths and injury statistics", [r"MSHA Coal Employment & Fatality", r"Non-Chargeable Mining Deaths"]),
    ("en", "which goods are made with child or forced labor", [r"Goods Produced by Child Labor"]),
    ("en", "weekly unemployment insurance claims", [r"Unemployment Insurance Weekly Claims"]),
    ("en", "government credit card purchases by agency staff", [r"Purchase Card Transactions"]),
    ("en", "buildings the federal government owns or leases", [r"Inventory of Owned and Leased Properties", r"REXUS"]),
    ("en", "black lung benefit payments", [r"Black Lung Program Benefit Payment", r"Black Lung Benefit Rates"]),
    ("en", "discounted airfares for federal employees between cities", [r"^City Pair Program"]),
    ("en", "serious workplace injuries reported by employers", [r"Severe Injury Report"]),
    ("en", "complaints consumers filed about banks and lenders", [r"^Consumer Complaint Database"]),
    ("en", "mortgage lending data by race and income", [r"HMDA"]),
    ("en", "credit card agreements offered by issuers", [r"^Credit Card Agreements Database"]),
    ("en", "prescriptions written by doctors under Medicare drug plans", [r"Medicare Part D Prescribers"]),
    ("en", "nursing home quality and ownership", [r"Nursing Home"]),
    ("en", "broadband internet availability by provider", [r"Fixed Broadband Deployment", r"^Provider Table"]),
    ("en", "illegal pirate radio stations", [r"Pirate Radio"]),
    ("en", "how many coins the mint produced", [r"Circulating Coins Production"]),
    ("en", "electric utility sales and revenue by month", [r"Electric Utility Sales and Revenue"]),
    ("en", "wind speed resource data for the United States", [r"Wind Integration National Dataset", r"WIND Toolkit"]),
    ("en", "tobacco production reports", [r"Tobacco Products Production"]),
    ("en", "federal advisory committee members and meetings", [r"Federal Advisory Committee Act"]),
    # Chinese queries, English records
    ("zh-en", "煤矿死亡事故统计", [r"MSHA Coal Employment & Fatality", r"Non-Chargeable Mining Deaths"]),
    ("zh-en", "童工和强迫劳动生产的商品清单", [r"Goods Produced by Child Labor"]),
    ("zh-en", "每周失业保险申领人数", [r"Unemployment Insurance Weekly Claims"]),
    ("zh-en", "政府采购卡消费记录", [r"Purchase Card Transactions"]),
    ("zh-en", "联邦政府拥有和租赁的房产", [r"Inventory of Owned and Leased Properties", r"REXUS"]),
    ("zh-en", "黑肺病补助金支付", [r"Black Lung Program Benefit Payment", r"Black Lung Benefit Rates"]),
    ("zh-en", "工作场所严重受伤报告", [r"Severe Injury Report"]),
    ("zh-en", "消费者对银行的投诉数据库", [r"^Consumer Complaint Database"]),
    ("zh-en", "住房抵押贷款披露数据", [r"HMDA"]),
    ("zh-en", "信用卡协议数据库", [r"^Credit Card Agreements Database"]),
    ("zh-en", "医保处方药开药医生", [r"Medicare Part D Prescribers"]),
    ("zh-en", "养老院质量和所有权", [r"Nursing Home"]),
    ("zh-en", "宽带网络覆盖数据", [r"Fixed Broadband Deployment", r"^Provider Table"]),
    ("zh-en", "非法海盗电台", [r"Pirate Radio"]),
    ("zh-en", "流通硬币生产数量", [r"Circulating Coins Production"]),
    ("zh-en", "电力公司月度售电量和收入", [r"Electric Utility Sales and Revenue"]),
    ("zh-en", "烟草产品生产报告", [r"Tobacco Products Production"]),
    ("zh-en", "孕妇和哺乳期员工的权利", [r"Pregnancy and Breastfeeding"]),
    ("zh-en", "大学信用卡营销协议", [r"College Credit Card Marketing"]),
    ("zh-en", "美国人的财务幸福感调查", [r"Financial Well-Being"]),
    # Chinese queries, Chinese records (Taiwan portal lists; simplified queries, traditional records)
    ("zh-zh", "台北市老人安养机构", [r"臺北市銀髮族服務-公立老人安養護機構"]),
    ("zh-zh", "台北停水通知", [r"臺北市停水資訊"]),
    ("zh-zh", "台南空气质量监测", [r"臺南市空氣品質監測"]),
    ("zh-zh", "登革热蚊子密度调查", [r"登革熱病媒蚊密度調查"]),
    ("zh-zh", "台南公交车乘客人数", [r"大台南公車運量"]),
    ("zh-zh", "台南房屋税", [r"臺南市房屋稅"]),
    ("zh-zh", "捷运车站无障碍设施故障", [r"捷運車站無障礙設施異常"]),
    ("zh-zh", "垃圾车清运路线和时间", [r"垃圾清運路線"]),
    ("zh-zh", "新竹居家托育服务中心", [r"新竹市居家托育服務中心"]),
    ("zh-zh", "台北土壤液化潜势", [r"臺北市土壤液化潛勢"]),
    ("zh-zh", "金门县人口统计", [r"金門縣.*人口數統計"]),
    ("zh-zh", "台南停车场剩余车位", [r"臺南市停車場即時剩餘車位"]),
    ("zh-zh", "台中路灯资料", [r"臺中市路燈"]),
    ("zh-zh", "高雄交通事故地点", [r"高雄市.*交通事故地點"]),
    ("zh-zh", "火灾次数和起火原因", [r"火災次數按起火原因"]),
    ("zh-zh", "公共饮水机设置地点", [r"飲水機"]),
    ("zh-zh", "嘉义市盗窃案件统计", [r"嘉義市.*竊盜案件"]),
    ("zh-zh", "台南降雨量统计", [r"臺南市雨量統計"]),
    ("zh-zh", "基隆公交站牌和路线", [r"基隆市公車站牌與路線"]),
    ("zh-zh", "新竹旅游景点游客人数", [r"新竹市重要遊憩據點遊客人次"]),
]


def _titles(root: Path) -> list[str]:
    titles = []
    for path in sorted((root / "us_federal_datajson").glob("*.json")):
        titles += [d["title"] for d in json.loads(path.read_text(encoding="utf-8"))["dataset"]]
    for path in sorted((root / "tw_city_portals_2018").glob("*.json")):
        titles += [row["資料集名稱"] for row in json.loads(path.read_text(encoding="utf-8"))]
    for path in sorted((root / "tw_ckan_2018").glob("*.csv")):
        titles += [row[0] for row in csv.reader(path.open(encoding="utf-8")) if row]
    return titles


def main() -> None:
    titles = _titles(Path(sys.argv[1]))
    out = Path(__file__).with_name("datasets_dev.jsonl")
    with out.open("w", encoding="utf-8") as handle:
        for n, (group, query, patterns) in enumerate(QUERIES, 1):
            relevant = sorted({t for t in titles if any(re.search(p, t) for p in patterns)})
            if not relevant:
                raise SystemExit(f"no title matches {patterns} for {query!r}")
            handle.write(json.dumps({"id": f"d{n:03d}", "group": group, "query": query, "relevant": relevant},
                                    ensure_ascii=False) + "\n")
            print(f"{group}\t{len(relevant)}\t{query}", file=sys.stderr)


if __name__ == "__main__":
    main()
