"""Build eval/datasets_dev_v2.jsonl (issue 28): 352 citizen-style queries over ../shared/data/catalogs.

Each query below was written as a citizen states a need (not the record's title), then judged by searching the
catalog titles, descriptions and keywords (scripts over the raw files, candidates read by hand). Its relevant
records are the PUBLIC records, in the portals named for the query, whose title matches one of its patterns;
the patterns were narrowed until they matched exactly the records judged relevant. The resolved titles are
written out explicitly, so the JSONL stands on its own and this script is only the record of how it was made.

Parts: whole publishers/portals are held back (HELD_BACK below); `none` lines alternate tune, tune, held_back.
The held-back part must never be looked at, run or scored while tuning (see eval/README.md).

Run: python eval/make_datasets_dev_v2.py ../shared/data/catalogs   (stdlib only; reads the catalogs, writes the
JSONL next to this file, prints one line per query). Check: python eval/check_datasets_dev_v2.py
"""

import csv
import json
import re
import sys
from pathlib import Path

HELD_BACK = {"fcc", "gsa", "treasury", "09_kaohsiung", "kaohsiung.ckan", "12_chiayi", "16_keelung", "18_changhua"}
GROUP_PREFIX = {"en": "en", "zh-en": "zhen", "zh-tw": "zhtw", "none": "none"}
SPECS: list[dict] = []


def E(title: str) -> str:
    """A pattern matching exactly this title."""
    return "^" + re.escape(title) + "$"


def q(group, portal, query, pats=(), ex=(), note=None, probe=None, hidden=()):
    """One query: group, portal(s) ('+'-joined file stems), the need, title patterns of its relevant records.
    `probe` is the wider regex that was grepped over titles, descriptions and keywords to find candidates;
    `hidden` are patterns of non-public records that would also answer the need (noted, never listed)."""
    SPECS.append({"group": group, "portal": portal, "query": query, "pats": list(pats), "ex": list(ex),
                  "note": note, "probe": probe, "hidden": list(hidden)})


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict):
        return _text(value.get("name") or value.get("title") or value.get("fn") or "")
    if isinstance(value, list):
        return "; ".join(t for t in (_text(v) for v in value) if t)
    return str(value).strip()


def load_records(root: Path) -> list[dict]:
    """Every catalog record as ingest titles it: DCAT title, Taiwan portal 資料集名稱, CKAN CSV first column;
    stripped; records without a title skipped. Taiwan lists carry no access level (ingest default: public)."""
    out = []
    for path in sorted((root / "us_federal_datajson").glob("*.data.json")):
        portal = path.name.split(".")[0]
        for r in json.loads(path.read_text(encoding="utf-8"))["dataset"]:
            title = _text(r.get("title"))
            if title:
                out.append({"portal": portal, "title": title, "access": _text(r.get("accessLevel")) or "public"})
    for path in sorted((root / "tw_city_portals_2018").glob("*.json")):
        for r in json.loads(path.read_text(encoding="utf-8")):
            title = _text(r.get("資料集名稱"))
            if title:
                out.append({"portal": path.stem, "title": title, "access": "public"})
    for path in sorted((root / "tw_ckan_2018").glob("*.csv")):
        portal = path.name.split(".")[0] + ".ckan"
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle):
                if row and row[0].strip():
                    out.append({"portal": portal, "title": row[0].strip(), "access": "public"})
    return out


G = 'en'
# ---------------- cms (tune)
q(G, 'cms', "which medical centers were bought by a new company in recent years", [r'^Hospital Change of Ownership'], probe=r'hospital.*change of ownership')
q(G, 'cms', "who is the real owner behind my mom's elder care home", [E('Skilled Nursing Facility All Owners'), E('Skilled Nursing Facility Change of Ownership - Owner Information')], probe=r'nursing.*owner')
q(G, 'cms', "quality scores for kidney dialisys centers near me", [E('Medicare Dialysis Facilities')], probe=r'dialysis')
q(G, 'cms', "how many seniors saw their doctor by video during covid", [E('Medicare Telehealth Trends')], probe=r'telehealth')
q(G, 'cms', "methadone clinics that bill medicare", [E('Opioid Treatment Program Providers')], probe=r'opioid treatment|methadone')
q(G, 'cms', "where do doctors write the most painkiller prescriptions for medicare and medicaid patients, by state", [r'Opioid Prescribing Rates'], probe=r'opioid')
q(G, 'cms', "how much does medicare pay for each brand name medicine", [E('Medicare Part D Spending by Drug'), E('Medicare Part B Spending by Drug')], probe=r'spending by drug')
q(G, 'cms', "what the low-income state health insurance pays for each prescription medicine", [E('Medicaid Spending by Drug')], probe=r'medicaid.*drug')
q(G, 'cms', "medical centers penalized for hiding what they charge", [E('Hospital Price Transparency Enforcement Activities and Outcomes')], probe=r'price transparency')
q(G, 'cms', "doctors who refuse to bill medicare and see patients privately", [E('Opt Out Affidavits')], probe=r'opt.out')
q(G, 'cms', "which companies supply wheelchairs and oxygen tanks to medicare patients", [r'Durable Medical Equipment, Devices & Supplies - by Supplier'], probe=r'durable medical')
q(G, 'cms', "how many RN and aide hours each elder care facility has per patient per day", [E('Payroll Based Journal Daily Nurse Staffing'), E('Payroll Based Journal Employee Detail Nursing Home Staffing')], probe=r'staffing')
q(G, 'cms', "covid infections and deaths among residents and workers of elder care facilities", [E('COVID-19 Nursing Home Data')], probe=r'covid')
q(G, 'cms', "companies that send caregivers to patients' houses and are certified by medicare", [E('Home Health Agency Enrollments'), r'^Provider of Services File - Internet Quality Improvement and Evaluation System - Home Health Agency'], probe=r'home health')
q(G, 'cms', "clinics in small country towns that take medicare", [E('Rural Health Clinic Enrollments')], probe=r'rural health clinic')
q(G, 'cms', "how many people are on medicare, month by month", [E('Medicare Monthly Enrollment')], probe=r'monthly enrollment')
q(G, 'cms', "how many people qualify for both medicare and medicaid", [E('CMS Program Statistics - Medicare-Medicaid Dual Enrollment')], probe=r'dual')
q(G, 'cms', "which doctor groups and hospitals are in medicare's shared savings program ACOs", [E('Accountable Care Organizations'), E('Accountable Care Organization Participants')], probe=r'shared savings')
q(G, 'cms', "when does my practice have to redo its medicare enrollment", [E('Revalidation Due Date List')], probe=r'revalidat')
q(G, 'cms', "what commercial insurers pay labs for blood work", [E('Medicare Clinical Laboratory Fee Schedule Private Payer Rates and Volumes')], probe=r'laboratory')
q(G, 'cms', "what medicare paid each medical center per admission diagnosis (DRG)", [E('Medicare Inpatient Hospitals - by Provider and Service'), E('Medicare Inpatient Hospitals - by Geography and Service')], probe=r'inpatient')
q(G, 'cms', "does my part D plan cover my medication", [r'Prescription Drug Plan Formulary'], probe=r'formulary')
q(G, 'cms', "infections and injuries patients get in the hospital, rates by hospital", [E('Deficit Reduction Act Hospital-Acquired Condition Measures')], probe=r'hospital-acquired|patient safety')
q(G, 'cms', "microdata from the yearly medicare enrollee interview study", [r'^Medicare Current Beneficiary Survey'], probe=r'beneficiary survey')
# ---------------- consumerfinance (tune)
q(G, 'consumerfinance', "fees on reloadable debit cards", [E('Prepaid Product Agreements Database')], probe=r'prepaid')
q(G, 'consumerfinance', "colleges that let students pay for classes in monthly installments", [E('Tuition Payment Plans in Higher Education')], probe=r'tuition')
q(G, 'consumerfinance', "deals between banks and universities for student checking accounts", [E('College Banking Agreements and Related Data')], probe=r'college banking|banking products')
q(G, 'consumerfinance', "convenience fees for paying kids' lunch money online", [E('Costs of Electronic Payments in K-12 Schools')], probe=r'K-12|school')
q(G, 'consumerfinance', "what interest rate (APR) do card issuers charge", [E('Terms of Credit Card Plans (TCCP) Survey'), E('Credit Card Agreements Database')], probe=r'credit card')
q(G, 'consumerfinance', "home loan applications and denials in 2012", [E('Home Mortgage Disclosure Act (HMDA) Public Data from 2007-2017')], probe=r'HMDA')
q(G, 'consumerfinance', "what problems people reported with debt collectors", [E('Consumer Complaint Database')], probe=r'complaint')
# ---------------- dol (tune)
q(G, 'dol', "how much does daycare cost in my county", [r'Childcare Prices'], probe=r'child ?care')
q(G, 'dol', "employers who had to pay workers for unpaid overtime", [E('FLSA'), E('Wage and Hour Division Compliance Action Data')], probe=r'back wage')
q(G, 'dol', "is this crew leader who hires migrant pickers licensed by the feds", [r'^Registered Farm Labor Contractor'], probe=r'farm labor contractor')
q(G, 'dol', "salaries companies put on their H-1B applications", [r'^Labor Condition Application for Nonimmigrant Workers'], probe=r'H-1B|LCA')
q(G, 'dol', "H-2A seasonal farm worker visa certifications", [E('H-2A Program Historical Data')], probe=r'H-2A')
q(G, 'dol', "employer-sponsored green card applications approved by the labor department", [r'^Permanent Employment Certification'], probe=r'PERM')
q(G, 'dol', "history of federal safety visits and citations at a coal mine", [E('MSHA Inspections Dataset'), E('MSHA Violations Dataset'), E('MSHA - Assessed Violations'), E('MSHA - Mine Data Retrieval System (MDRS)')], probe=r'violation|inspection')
q(G, 'dol', "coal and silica particles in the air miners breathe, lab results", [E('MSHA Coal Dust Samples'), E('MSHA Quartz Samples')], probe=r'dust|quartz|silica')
q(G, 'dol', "how loud is it underground for miners, hearing exposure", [E('MSHA Noise Samples')], probe=r'noise')
q(G, 'dol', "stories of how workers got hurt, from OSHA investigation write-ups", [r'^DOL Enforcement Data - Accident'], ex=[r'Lookup'], probe=r'accident')
q(G, 'dol', "has OSHA ever visited this company and what did they find", [E('DOL Enforcement Data - Inspection')], probe=r'OSHA', hidden=[r'^OSHA Information System$'])
q(G, 'dol', "yearly injury summaries employers have to post (300A)", [E('OSHA Form 300A')], probe=r'300A')
q(G, 'dol', "one-stop career offices near me run with federal money", [r'American Job Centers'], probe=r'job center')
q(G, 'dol', "support groups for people looking for work", [E('Job Clubs data')], probe=r'job club')
q(G, 'dol', "which jobs need a state licence", [E('State/Federal Licensed Occupations data')], probe=r'licens')
q(G, 'dol', "translate my army job code into a matching non-military occupation", [E('Military to Civilian Crosswalk')], probe=r'military')
q(G, 'dol', "what skills and tasks does each occupation involve", [r'O\*NET'], probe=r'O\*NET')
q(G, 'dol', "how jobless benefit rules differ between states", [E('Comparison of State Unemployment Insurance (UI) Laws'), E('Significant Provisions Report of State Unemployment Insurance Laws')], probe=r'UI Laws|Insurance Laws')
q(G, 'dol', "gig workers' jobless claims during covid (PUA)", [E('Pandemic Unemployment Assistance Activities (ETA-902P)')], probe=r'pandemic')
q(G, 'dol', "how much unemployement money was paid out by mistake", [r'Improper Payment Rates', r'Overpayment Detection', r'Benefit Accuracy Measurement'], probe=r'improper|overpayment')
q(G, 'dol', "which states give workers paid time off to care for a newborn or sick relative", [E('State Paid Family and Medical Leave Laws')], probe=r'paid family')
q(G, 'dol', "laws on gender wage gaps and posting salary ranges in job ads, by state", [E('Map: Equal Pay and Pay Transparency Protections')], probe=r'equal pay')
q(G, 'dol', "interviews with crop farmhands about their wages and health", [r'NAWS'], probe=r'farmworker|agricultural workers survey', hidden=[r'^National Agricultural Workers Survey \(Restricted Use\)'])
q(G, 'dol', "my old employer closed, what happened to my 401k", [E('Abandoned Plan Search Database')], probe=r'abandoned')
# ---------------- energy (tune)
q(G, 'energy', "what do people pay for electricty per kwh in each state", [E('Annual Electricity Price by State'), r'^Annual Average Electricity Price by State by Provider'], probe=r'price of (retail )?electricity', hidden=[r'^Electricity Data: Average Retail Price of Electricity'])
q(G, 'energy', "inventory of every power plant generating unit in 2016", [E('Annual 2016 Electric Generator Report')], probe=r'generator')
q(G, 'energy', "interactive map of petroleum imports by grade and country of origin", [E('Crude Oil Imports Tracking Tool')], probe=r'crude oil imports')
q(G, 'energy', "which companies imported petroleum in 1995", [E('Company Level Petroleum Imports 1995')], probe=r'1995')
q(G, 'energy', "what will gasoline cost next year", [r'^Short-Term Energy Outlook - Real and Nominal Petroleum Prices', E('Energy Analysis & Projections')], probe=r'forecast|outlook', hidden=[r'^Short-Term Energy Outlook: U\.S\. Prices'])
q(G, 'energy', "how much energy american households use for heating, cooling and appliances", [r'^Residential Energy Consumption Survey'], probe=r'residential')
q(G, 'energy', "energy use of offices, stores and schools", [E('Commercial Buildings Energy Consumption Survey')], probe=r'commercial buildings')
q(G, 'energy', "solar panel shipments in the US", [E('Annual Solar Photovoltaic Module Shipments Report')], probe=r'photovoltaic')
q(G, 'energy', "number of electric and hybrid cars on the road", [E('Alternative Fuel Vehicle Data')], probe=r'vehicle')
q(G, 'energy', "fracking output by basin, like the Permian and the Marcellus", [E('Dry Shale Gas Production Estimates by Play'), E('Tight Oil Production Estimates by Play')], probe=r'shale|tight oil')
q(G, 'energy', "proved reserves of oil and gas", [E('U.S. Crude Oil, Natural Gas, and Natural Gas Liquids Reserves')], probe=r'reserves', hidden=[r'^Petroleum Data: Crude Reserves and Production', r'^Natural Gas Data: Exploration and Reserves'])
q(G, 'energy', "where are the power stations that run on heat from the earth", [r'Geothermal Plants$'], probe=r'geothermal')
q(G, 'energy', "sunshine data for planning a PV farm", [E('National Solar Radiation Database (NSRDB)'), r'^Physical Solar Model version 3'], probe=r'solar')
q(G, 'energy', "how much power could ocean swells generate along the coast", [r'^Wave '], probe=r'wave')
q(G, 'energy', "how much crop waste, wood and landfill gas each area could supply for energy", [r'^U\.S\. (Biomethane|Solid Biomass) Resources by County'], probe=r'biomass|methane')
q(G, 'energy', "radiation measurements after the fukushima accident", [r'Fukushima'], probe=r'fukushima')
q(G, 'energy', "projects that bury CO2 underground, worldwide", [E("NETL's Carbon Capture and Storage Database")], probe=r'carbon capture')
q(G, 'energy', "grid-scale battery projects around the world", [E('DOE Global Energy Storage Database')], probe=r'storage')
q(G, 'energy', "which LNG terminals got permission to ship gas overseas", [E('Natural Gas Import & Export Regulation - Authorizations')], probe=r'export')
q(G, 'energy+dol', "how much coal each mine dug up in 2013 and how many miners it employed", [E('Coal Production by MSHA ID, Mine Operation, Union Status, and Average Number of Employees and Hours 2013'), r'^MSHA Operator Employment and Production Data ?[Ss]et - (Yearly|Quarterly)$'], probe=r'coal production|employment and production')
q(G, 'energy', "how much co2 each state puts out", [E('State carbon dioxide emissions data'), r'^Annual U\. S\. Electric Power Industry Estimated Emissions by State'], probe=r'carbon dioxide|emission')
q(G, 'energy', "map of old nuclear weapons locations the government still looks after", [E('DOE Legacy Management Sites'), E('DOE Legacy Management Site Boundaries'), E('Legacy Management Geospatial Environmental Mapping System')], probe=r'legacy management')
G = 'en'
# ---------------- fcc (held back)
q(G, 'fcc', "list of 911 call centers by county", [E('911 Master PSAP Registry')], probe=r'911|PSAP')
q(G, 'fcc', "what people told the FCC about robocalls and junk faxes", [E('CGB - Consumer Complaints Data')], probe=r'complaint')
q(G, 'fcc', "labs that can certify my wireless gadget before it goes on sale", [E('EAS Accredited Test Firms'), E('EAS 2.948 Listed Test Firms')], probe=r'test firm|testing lab')
q(G, 'fcc', "look up the company behind the FCC ID printed on my router", [E('EAS Equipment Authorization Grantee Registrations')], probe=r'grantee')
q(G, 'fcc', "satellite dish sites registered to protect C-band reception", [r'^Protected FSS Earth Station Registration'], probe=r'earth station')
q(G, 'fcc', "new TV channel assignments after the 2017 spectrum repack", [E('Post Auction Coverage Baseline 2.0')], probe=r'repack|incentive auction')
q(G, 'fcc', "who accredits the labs that test radio equipment for the FCC", [E('EAS Test Firm Accrediting Bodies (TFAB)')], probe=r'accredit')
q(G, 'fcc', "look up a two-way radio or ham license", [E('FCC Universal Licensing System (ULS)')], probe=r'licens')
q(G, 'fcc', "TV station applications filed with the media bureau", [E('LMS Public Database Files')], probe=r'media bureau|LMS')
q(G, 'fcc', "recommended ways to keep phone networks reliable and secure", [E('CSRIC Best Practices')], probe=r'CSRIC|best practice')
# ---------------- gsa (held back)
q(G, 'gsa', "buy used government cars and office equipment online", [r'Auctions'], probe=r'auction')
q(G, 'gsa', "companies banned from getting goverment contracts", [E('System for Award Management (SAM) Public Extract - Exclusions')], probe=r'exclusion|debar')
q(G, 'gsa', "where can a little company find government work to bid on", [E('Contract Opportunities from SAM.gov'), E('Federal Business Opportunities Data'), E('FAS Forecast Of Contracting Opportunities'), E('Subcontracting Directory for Small Businesses')], probe=r'opportunit|solicitation')
q(G, 'gsa', "catalog of federal grant programs anyone can apply for", [E('Assistance Listings at beta.SAM.gov (formerly CFDA)')], probe=r'assistance listing|CFDA')
q(G, 'gsa', "which cloud services are fedramp authorised", [E('FedRAMP Authorization Letters')], probe=r'fedramp')
q(G, 'gsa', "most visited government websites right now", [r'^Top 20 ', E('Analytics.USA.gov')], probe=r'visit')
q(G, 'gsa', "federal buildings and land inventory for fiscal year 2022", [E('FY 2022 Federal Real Property Profile (FRPP) Public Dataset'), E('FY2022 Federal Real Property Profile Summary Data by Installation Name')], probe=r'2022')
q(G, 'gsa', "government server farms that were shut down", [r'^Fed\. Data Center Consolidation Initiative'], probe=r'data center')
q(G, 'gsa', "officials flying on government planes", [E('Senior and Premium Federal Travel Report'), E('Federal Aircraft Cost and Utilization Data')], probe=r'aircraft|aviation')
q(G, 'gsa', "how much agencies spend on postage and shipping letters", [E('Federal Mail Expenditures')], probe=r'mail')
q(G, 'gsa', "volunteer for citizen science and crowdsourcing projects", [E('Citizenscience.gov Catalog')], probe=r'citizen science')
q(G, 'gsa', "hourly rates contractors charge the government for each kind of worker", [E('Contract-Awarded Labor Category API')], probe=r'labor categor|ceiling rate')
q(G, 'gsa', "emergency covid purchases the government made", [E('COVID-19 Contract Obligation Tracking Dataset')], probe=r'covid')
q(G, 'gsa', "read the rental agreements GSA signed for office space", [E('Lease Documents')], probe=r'lease')
# ---------------- treasury (held back)
q(G, 'treasury', "check if a company or individual is blacklisted by OFAC", [E('Specially Designated Nationals (SDN) and Blocked Persons List'), E('Consolidated (non-SDN) Sanctions List')], probe=r'sanction')
q(G, 'treasury', "how much does the US government owe right now", [E('Debt to the Penny'), E('Monthly Statement of the Public Debt (MSPD)'), E('Debt Position and Activity Report')], probe=r'debt')
q(G, 'treasury', "t-bill rates each day", [E('Daily Treasury Bill Rates Data'), E('Interest Rate Statistics - Daily Treasury Bill Rates')], probe=r'bill rate')
q(G, 'treasury', "what the 10 year treasury paid, day by day", [E('Daily Treasury Yield Curve Dates'), E('Interest Rate Statistics - Daily Treasury Yield Curve Rates')], probe=r'yield curve')
q(G, 'treasury', "what is my grandma's old EE savings bond worth now", [E('Redemption Tables'), E('Savings Bonds Value Files')], probe=r'savings bond|redemption')
q(G, 'treasury', "official currency conversion values agencies must use", [E('Treasury Reporting Rates of Exchange')], probe=r'exchange')
q(G, 'treasury', "how much gold is in fort knox", [E('U.S. Treasury-Owned Gold')], probe=r'gold')
q(G, 'treasury', "average income and taxes by postal area", [E('Individuals, ZIP Code Data')], probe=r'zip')
q(G, 'treasury', "people moving from one state to another based on tax returns", [E('Individuals, State and County Migration data')], probe=r'migration')
q(G, 'treasury', "money figures from charities' form 990 returns", [r'^Tax-Exempt Organizations'], probe=r'990')
q(G, 'treasury', "how many barrels breweries produce each month", [E('Beer Production and Operations Reports')], probe=r'beer|brew')
q(G, 'treasury', "moonshine stils seized by the feds", [r'Moonshine'], probe=r'moonshine|illicit')
q(G, 'treasury', "search approved wine and beer label applications", [r'^TTB Public COLA Registry'], probe=r'COLA|label')
q(G, 'treasury', "how many dollar bills were printed this year", [E('Annual Production Figures of United States Currency')], probe=r'notes printed|currency')
G = 'zh-en'
# ---------------- cms (tune)
q(G, 'cms', "哪些临终关怀机构加入了美国联邦医保", [E('Hospice Enrollments'), r'^Provider of Services File - Internet Quality Improvement and Evaluation System - Home Health Agency'], probe=r'hospice')
q(G, 'cms', "想知道某家美国医院背后的老板是谁", [E('Hospital All Owners'), E('Hospital Change of Ownership - Owner Information')], probe=r'hospital.*owner')
q(G, 'cms', "美国老年医保病人因新冠住院的趋势", [E('Medicare COVID-19 Hospitalization Trends')], probe=r'covid')
q(G, 'cms', "美国各州各县医保花费和使用差异", [r'^Medicare Geographic Variation', E('Medicare Advantage Geographic Variation - National & State')], probe=r'geographic variation')
q(G, 'cms', "每个医生从联邦医保拿到多少钱，按医生查", [E('Medicare Physician & Other Practitioners - by Provider'), E('Medicare Physician & Other Practitioners - by Provider and Service')], probe=r'physician')
q(G, 'cms', "社区卫生中心(FQHC)名单", [E('Federally Qualified Health Center Enrollments')], probe=r'federally qualified')
q(G, 'cms', "在家打点滴输液治疗的医保服务商", [E('Home Infusion Therapy Providers')], probe=r'infusion')
q(G, 'cms', "養老院住民健康狀況統計", [E('Minimum Data Set Frequency'), E('Facility-Level Minimum Data Set Frequency')], probe=r'minimum data set')
q(G, 'cms', "美国医院年度成本和收入报表", [E('Hospital Provider Cost Report')], probe=r'cost report')
q(G, 'cms', "改善孕妇产前护理的联邦资助获奖机构", [E('Strong Start Awardees')], probe=r'strong start|mothers')
q(G, 'cms', "每年有多少老年医保参保人去世", [E('CMS Program Statistics - Medicare Deaths')], probe=r'deaths')
q(G, 'cms', "联邦医保A部分和B部分的保费统计", [E('CMS Program Statistics - Medicare Premiums')], probe=r'premium')
q(G, 'cms', "参加医保优势计划的人数", [E('CMS Program Statistics - Medicare Advantage & Other Health Plan Enrollment')], probe=r'advantage.*enrollment')
q(G, 'cms', "今年刚加入美国老人医保的人有多少", [E('CMS Program Statistics - Medicare Newly Enrolled')], probe=r'newly enrolled')
q(G, 'cms', "哪些医生有资格给医保病人开检查单和转诊", [E('Order and Referring')], probe=r'order and referring|referring')
q(G, 'cms', "医保欺诈风险：各地医疗服务市场饱和度", [r'^Market Saturation & Utilization'], probe=r'saturation')
q(G, 'cms', "居家护理机构的年度成本报告", [E('Home Health Agency Cost Report')], probe=r'home health.*cost')
# ---------------- consumerfinance (tune)
q(G, 'consumerfinance', "2018年以后的美国房贷申请数据", [E('HMDA Public Data (Starting in 2017)')], probe=r'HMDA')
q(G, 'consumerfinance', "預付卡的手續費和使用條款", [E('Prepaid Product Agreements Database')], probe=r'prepaid')
q(G, 'consumerfinance', "想看某家银行信用卡合同的原文条款", [E('Credit Card Agreements Database')], probe=r'credit card')
q(G, 'consumerfinance', "在网上给孩子交学校午餐费要收多少手续费", [E('Costs of Electronic Payments in K-12 Schools')], probe=r'K-12')
q(G, 'consumerfinance', "美国大学学费分期付款计划", [E('Tuition Payment Plans in Higher Education')], probe=r'tuition')
# ---------------- dol (tune)
q(G, 'dol', "可以给残障员工付低于最低工资的雇主名单", [E('14(c)-certificate-holders')], probe=r'14\(c\)')
q(G, 'dol', "美国有哪些全国认可的职业资格证书", [E('National Certifications data')], probe=r'certification')
q(G, 'dol', "H-2B临时非农工作签证申请数据", [E('H-2B Program Historical Data')], probe=r'H-2B')
q(G, 'dol', "外国劳工的现行工资认定历史数据", [E('Prevailing Wage Program Historical Data')], probe=r'prevailing wage')
q(G, 'dol', "雇主违反家庭医疗假法的执法案件", [E('FMLA')], probe=r'FMLA|family and medical')
q(G, 'dol', "各国最恶劣形式童工的调查报告", [E('Findings on the Worst Forms of Child Labor'), E('Sweat and Toil API')], probe=r'worst forms')
q(G, 'dol+energy', "美國所有礦山的名單和地址，哪些還在開採", [E('MSHA Mines Dataset'), E('MSHA Mine Addresses of Record'), E('Coal Mines, Surface and Underground')], probe=r'mines')
q(G, 'dol', "矿工受伤事故报告原始数据", [E('MSHA Accident Injuries Data Set'), E('MSHA Part 50 Self-Extracting Files'), E('Mine Injury and Worktime Quarterly Reports')], probe=r'injur')
q(G, 'dol', "核武器工厂工人得职业病的赔偿金统计", [E('EEOICP Program Statistics')], probe=r'EEOICP|compensation')
q(G, 'dol', "各州失業保險績效排名", [E('Unemployment Insurance Performance Management Rankings')], probe=r'ranking')
q(G, 'dol', "飓风等灾害后的失业救助申请", [E('Historical Series of Disaster Unemployment Assistance Activities (ETA-902)')], probe=r'disaster')
q(G, 'dol', "退伍军人就业补助项目的绩效", [r'^Jobs for Veterans State Grants \(JVSG\)'], probe=r'JVSG|veteran')
q(G, 'dol', "帮助无家可归退伍军人重新就业的项目成果", [E('Homeless Veteran Reintegration Program (HVRP) Outcomes')], probe=r'homeless')
q(G, 'dol', "55岁以上低收入老人找工作的联邦项目，各地承办机构联系方式", [E('Senior Community Service Employment Program (SCSEP) National and State Local Grantees Contact List')], probe=r'SCSEP|senior community')
q(G, 'dol', "註冊學徒制的統計數據", [E('Apprenticeship Data and Statistics')], probe=r'apprentice')
q(G, 'dol', "帮美国雇主招募外国劳工的中介名单", [E('Foreign Labor Recruiter List')], probe=r'recruiter')
q(G, 'dol', "联邦承包商就业歧视的投诉调查和合规审查", [E('Federal Contractor Complaint Investigations'), E('Federal Contractor Compliance Evaluations')], probe=r'OFCCP|federal contractor')
q(G, 'dol', "雇用退伍军人或长期失业者的工作机会税收抵免认证", [E('Work Opportunity Tax Credit (WOTC) certification data')], probe=r'WOTC|tax credit')
# ---------------- energy (tune)
q(G, 'energy', "美国各州能源生产和消费数据", [E('State Energy Data System (SEDS)'), E('Energy Data and Statistics from U.S. States')], probe=r'state-level|SEDS', hidden=[r'^State Energy Data System \(SEDS\) : (Consumption|Production) Application'])
q(G, 'energy', "美国每月天然气开采量", [E('Monthly Gross Withdrawals of Natural Gas')], probe=r'withdrawals', hidden=[r'^Natural Gas Data: Production Application'])
q(G, 'energy', "世界各国能源生产消费统计", [E('International Energy Statistics'), E('International Energy Portal')], probe=r'country')
q(G, 'energy', "用可再生能源制氢的潜力", [r'^Hydrogen Potential'], probe=r'hydrogen')
q(G, 'energy+dol', "美国露天和井工煤矿分布", [E('Coal Mines, Surface and Underground'), E('MSHA Mines Dataset')], probe=r'coal mines')
q(G, 'energy', "2005年美国电力行业数据", [E('Annual 2005 Electric Power Industry Data')], probe=r'2005')
q(G, 'energy', "2010年电厂燃料收货量和燃料质量", [E('Monthly 2010 Utility and Nonutility Fuel Receipts and Fuel Quality Data')], probe=r'fuel receipts')
q(G, 'energy', "国家实验室里外部科学家可以申请使用的大型设备", [E('DOE User-Facilities and R&D Equipment')], probe=r'user facilit')
q(G, 'energy', "美国能源部贷款给了哪些清洁能源项目", [E('Loan Programs Projects'), E('Loan Programs Office website')], probe=r'loan')
q(G, 'energy', "ARPA-E资助的能源科研项目", [E('ARPA-E Projects')], probe=r'ARPA')
q(G, 'energy', "能源部听证和上诉案件的裁决", [E('DOE Hearings and Appeals Case Decisions')], probe=r'hearings')
q(G, 'energy', "能源部项目的环境影响评估文件", [E('DOE NEPA Documents'), r'Categorical Exclusion'], probe=r'NEPA')
q(G, 'energy', "商业低放射性废物处置场收到的废物运输记录", [E('Manifest Information Management System (MIMS)')], probe=r'radioactive|waste')
q(G, 'energy', "抽水蓄能电站选址数据", [E('10-Hour - Closed-Loop Pumped Storage Hydropower Data')], probe=r'pumped storage')
q(G, 'energy', "原油管道和液体管道在建项目", [E('Liquids pipeline projects database')], probe=r'pipeline')
q(G, 'energy', "铀矿和核电站的数据", [E('Nuclear & Uranium Data and Statistics')], probe=r'uranium')
G = 'zh-en'
# ---------------- fcc (held back)
q(G, 'fcc', "美国各地的911紧急报警接听中心名单", [E('911 Master PSAP Registry')], probe=r'911')
q(G, 'fcc', "向美国通信委员会投诉骚扰电话的记录", [E('CGB - Consumer Complaints Data')], probe=r'complaint')
q(G, 'fcc', "无线电设备认证机构TCB有哪些", [E('EAS Telecommunications Certification Bodies (TCB)'), E('EAS Designating Authorities for Telecommunications Certification Bodies (TCB)')], probe=r'certification bod')
q(G, 'fcc', "美国通信委员会向民众收集资料用的表格清单", [E('FCC Active and Pending Information Collections under the Paperwork Reduction Act')], probe=r'paperwork|information collection')
q(G, 'fcc', "3650兆赫无线基站登记位置", [E('ULS 3650 Locations')], probe=r'3650')
q(G, 'fcc', "卫星地面站和国际业务执照申请", [E('International Bureau Filing System (IBFS)')], probe=r'earth station|international bureau')
q(G, 'fcc', "宽频业者和地理区域对照查询表", [E('Provider Lookup Table'), E('Geography Lookup Table')], probe=r'lookup')
q(G, 'fcc', "电话网络中间运营商登记名单", [E('Intermediate Provider Registry')], probe=r'intermediate')
# ---------------- gsa (held back)
q(G, 'gsa', "美国联邦政府租车给各机关的月租价格", [E('Vehicle Rates API')], probe=r'vehicle rate|lease')
q(G, 'gsa', "聯邦政府公務車隊有多少輛車", [E('Federal Fleet Report')], probe=r'fleet')
q(G, 'gsa', "查一家公司有没有在美国联邦政府供应商系统注册", [E('System for Award Management (SAM) Public Extract - Entity Registration'), E('System for Award Management (SAM) API')], probe=r'SAM|award management')
q(G, 'gsa', "美国联邦政府采购合同的完整数据库", [E('Federal Procurement Data System'), E('Federal Procurement Data System - FPDS API')], probe=r'procurement')
q(G, 'gsa', "访问美国政府网站的人用手机还是电脑", [E('Visits by Device Type')], probe=r'device')
q(G, 'gsa', "美国联邦政府开放的API清单", [E('List of Government APIs')], probe=r'APIs')
q(G, 'gsa', "联邦大楼新建和大修工程地图", [E('New Construction and Repair and Alteration (R&A) Projects')], probe=r'construction')
q(G, 'gsa', "Networx电信合同2019财年第三季度业务量", [E('Networx Business Volume FY2019, 3rd Qtr')], probe=r'FY2019')
q(G, 'gsa', "美国政府的西班牙语资讯", [E('GobiernoUSA.gov Blog RSS feed'), E('Noticias y actualizaciones de GobiernoUSA.gov')], probe=r'spanish|gobierno')
q(G, 'gsa', "联邦机关招人要多久", [E('Time to Hire'), E('Federal Hiring Assessments and Selection Outcome Dataset')], probe=r'hire|hiring')
# ---------------- treasury (held back)
q(G, 'treasury', "美国国债每年要付多少利息", [E('Interest Expense on the Debt Outstanding')], probe=r'interest expense')
q(G, 'treasury', "最近美国国债拍卖结果", [E('Auction Results'), E('Treasury Securities Auction Results'), E("Today's Auction Results")], probe=r'auction results')
q(G, 'treasury', "接下来有哪些美国国债要拍卖", [E('Upcoming Auctions'), E('Quarterly Refunding Auction Schedule'), E('Quarterly Refunding auction schedule of Treasury securities.')], probe=r'upcoming|schedule')
q(G, 'treasury', "美國聯邦政府每天的現金收支", [E('Daily Treasury Statement (DTS)')], probe=r'daily treasury statement|cash')
q(G, 'treasury', "中国和日本持有多少美国国债", [E('Treasury International Capital (TIC) - TIC Press Releases - Annual Surveys of Foreign Portfolio Holdings of U.S. Securities at end-June'), E('Treasury International Capital: Securities (B): Portfolio Holdings of U.S and Foreign Securities')], probe=r'foreign portfolio holdings|portfolio holdings')
q(G, 'treasury', "銀行申報的可疑交易報告統計", [E('Suspicious Activity Report Statistics (SAR Stats)')], probe=r'suspicious')
q(G, 'treasury', "违反银行保密法被罚的金融机构", [E('FinCEN Enforcement Actions for Violations of the Bank Secrecy Act')], probe=r'bank secrecy')
q(G, 'treasury', "美国烈酒蒸馏厂每月产量", [E('Distilled Spirits Production and Operations Reports')], probe=r'distilled')
q(G, 'treasury', "美国铸币局金币银币销量", [r'^Bullion Sales and Mintage\sFigures$', E('Numismatic Precious Metal Products Sales Figures'), E('Cumulative Numismatic Sales Figures')], probe=r'bullion|numismatic')
q(G, 'treasury', "联邦政府的每一笔拨款和合同去了哪里", [r'^USAspending\.gov'], probe=r'spending')
G = 'zh-tw'
TN = '05_tainan+tainan.ckan'
KH = '09_kaohsiung+kaohsiung.ckan'
# ================= tune portals
# ---- Taipei
q(G, '01_taipei', "台北哪里可以借youbike，现在还有几台车", [E('YouBike臺北市公共自行車即時資訊')], probe=r'YouBike|自行車')
q(G, '01_taipei', "臺北市近郊有哪些登山小路可以爬", [E('臺北市親山步道')], probe=r'步道')
q(G, '01_taipei', "暑假带小孩去台北哪个泳池，要有救生员的", [E('臺北市公私立游泳池及救生員位置及相關資訊'), E('臺北市所轄公立高中職以下有游泳池學校一覽表')], probe=r'游泳')
q(G, '01_taipei', "出国要把狗狗寄放，台北合法的毛孩住宿", [E('寵物旅館')], probe=r'寵物')
q(G, '01_taipei', "木柵看熊貓的地方還能看到哪些猛獸和鳥類", [E('臺北市立動物園_動物資料')], probe=r'動物園')
q(G, '01_taipei', "台北市各区借书的地方地址和开放时间", [E('臺北市立圖書館各分館暨民眾閱覽室')], probe=r'圖書館')
q(G, '01_taipei', "買台北中古屋前想確認是不是氯離子過高的房子", [E('海砂屋列管清冊')], probe=r'海砂')
q(G, '01_taipei', "台北今天菜市场青菜水果卖多少钱", [E('臺北市公有零售市場行情'), E('農產品批發交易行情')], probe=r'行情')
q(G, '01_taipei', "台北哪些地方住家常被闯空门", [E('臺北市住宅竊盜點位資訊')], probe=r'竊盜')
q(G, '01_taipei', "臺北身障者專用車位在哪裡", [E('臺北市身心障礙停車格'), E('臺北市公有路外停車場無障礙設施設置情形')], probe=r'身心障礙|無障礙')
q(G, '01_taipei', "家里过期的药要拿去哪里丢 台北", [E('臺北市居家廢棄藥物檢收站')], probe=r'藥物')
q(G, '01_taipei', "北市各区房东最多能收多少房租", [E('各行政區房屋租金法定上限參考表')], probe=r'租金')
q(G, '01_taipei', "搭北捷从台北车站到淡水要多少钱", [E('臺北市-臺北捷運系統票價')], probe=r'票價')
q(G, '01_taipei', "台北现在PM2.5多少，外面能不能运动", [E('臺北市空氣品質即時污染指標'), E('空氣盒子即時量測資料')], probe=r'空氣')
q(G, '01_taipei', "九二一大震後被政府盯著的危樓 台北", [E('本市921、331地震列管建築物')], probe=r'地震')
# ---- Taoyuan
q(G, '03_taoyuan', "桃园机场捷运最早几点开、最晚几点收班", [E('桃園捷運首末班車時刻表'), E('桃園捷運站別時刻表資料')], probe=r'桃園捷運')
q(G, '03_taoyuan', "機捷從桃園機場到台北車站要多少錢", [E('桃園捷運起迄站間票價資料')], probe=r'票價')
q(G, '03_taoyuan', "桃园有哪些观光夜市", [E('桃園市內觀光夜市')], probe=r'夜市')
q(G, '03_taoyuan', "桃園哪裡可以泡湯，合格的業者", [E('桃園市領有溫泉標章之溫泉使用事業名單')], probe=r'溫泉')
q(G, '03_taoyuan', "桃园旧沙发旧床垫要怎么丢", [E('巨大廢棄物清運時間流程'), E('修惜站(巨大傢俱再生)資訊')], probe=r'巨大')
q(G, '03_taoyuan', "桃园登格热病例在哪几区", [E('桃園市登革熱確診個案分布')], probe=r'登革熱')
q(G, '03_taoyuan', "被雨傘節咬了，哪家醫院有解毒針", [E('桃園市毒蛇血清供給表')], probe=r'毒蛇|血清')
q(G, '03_taoyuan', "桃园摩托车常被偷的地方", [E('桃園市機車竊盜點位')], probe=r'竊盜')
q(G, '03_taoyuan', "年轻人在桃园开公司借钱，政府有没有补助", [r'^桃園市(105年度)?青年創業貸款'], probe=r'創業')
q(G, '03_taoyuan', "桃園帶小小孩放電的室內遊戲空間", [E('桃園市親子館')], probe=r'親子')
# ---- Hsinchu
q(G, '04_hsinchu', "新竹看狮子老虎的园区一年多少人去，赚多少钱", [E('新竹市立動物園門票收入及入園人數統計表')], probe=r'動物園')
q(G, '04_hsinchu', "新竹不用錢的巴士下一班幾點到", [E('新竹市免費公車預估到站時刻表')], probe=r'公車')
q(G, '04_hsinchu', "新竹市上下班哪里最堵", [E('新竹市易塞車路段資訊')], probe=r'塞車')
q(G, '04_hsinchu', "新竹市房屋實際成交價格", [E('新竹市不動產實價登錄資訊-買賣案件'), E('新竹市不動產實價登錄資訊-預售屋案件')], probe=r'實價')
q(G, '04_hsinchu', "想在新竹租一小块地种菜", [E('新竹市市民農園承租資訊')], probe=r'農園')
q(G, '04_hsinchu', "新竹吹製琉璃的藝術家有哪些", [E('新竹市玻璃工藝創作者一覽表')], probe=r'玻璃')
# ---- Tainan (portal list + CKAN)
q(G, TN, "台南共享单车在哪里借", [r'^T-Bike'], probe=r'自行車|T-Bike')
q(G, TN, "臺南有哪些夜市，攤位名單", [E('台南市夜市名冊'), E('夜市食品業者攤(鋪)位名冊')], probe=r'夜市')
q(G, TN, "我要在台南开餐厅，想知道卫生局抽查哪些东西不合格", [E('各類食品抽驗結果'), E('臺南市市售食品抽驗不符合規定明細'), E('臺南市跨局處食品安全聯合稽查執行成果'), E('食品器具、食品容器或包裝、食品用洗潔劑檢驗結果')], probe=r'抽驗|稽查')
q(G, TN, "想在台南带一只没人要的狗或猫回家", [E('臺南待認領養流浪動物資料')], probe=r'認領養|流浪')
q(G, TN, "關子嶺有牌照的泡湯店", [E('臺南市合法溫泉業者')], probe=r'溫泉')
q(G, TN, "颱風要來了 台南公所發的防洪沙袋在哪領", [E('台南市內各區公所沙包領放點')], probe=r'沙包')
q(G, TN, "台南摩托车被偷的统计", [E('臺南市機車失竊案件統計資料')], probe=r'失竊')
q(G, TN, "台南哪里可以看花海", [E('臺南市賞花地圖')], probe=r'賞花|花')
q(G, TN, "台南做医美的地方名单", [E('臺南市美容醫學診所資料')], probe=r'醫學美容|美容醫學')
q(G, TN, "台南看眼睛的医生", [E('臺南市各區眼科相關之診所、醫院')], probe=r'眼科')
q(G, TN, "臺南能參觀生產線、做DIY的景點", [E('臺南觀光工廠清冊')], probe=r'觀光工廠')
q(G, TN, "台南可以典當東西的店", [r'合法當舖'], probe=r'當舖')
q(G, TN, "台南巴士还有几分钟来", [r'^大台南公車預估到站時間'], probe=r'到站')
q(G, TN, "台南哪些河边海边常有人淹死", [E('年度溺水地點'), E('年度溺水地點水域統計')], probe=r'溺水')
# ---- Ilan
q(G, '06_Ilan', "宜兰合法民宿名单", [E('宜蘭縣民宿名冊')], probe=r'民宿')
q(G, '06_Ilan', "宜蘭哪裡還有空車位可以停", [E('宜蘭縣停車場剩餘數資料'), E('宜蘭縣中興文化創意園區公共停車場剩餘車位')], probe=r'停車場')
q(G, '06_Ilan', "宜兰倒拉圾的车几点会到我家附近", [E('宜蘭縣各鄉鎮市垃圾車APP清運點資料')], probe=r'垃圾車')
q(G, '06_Ilan', "在宜蘭喝了酒要找人幫忙開車回家", [E('宜蘭縣計程車業者(酒後代駕)叫車資訊一覽表')], probe=r'代駕')
q(G, '06_Ilan', "过年期间宜兰能在校园搭帐篷吗", [E('106年度校舍地春節期間開放露營場地之學校名冊')], probe=r'露營')
# ---- Taichung
q(G, '08_taichung', "台中有哪些流浪狗猫等人带回家", [E('臺中市動物之家鼓勵認養公告'), E('臺中市動物之家收容動物公告')], probe=r'動物之家')
q(G, '08_taichung', "臺中iBike站點還有幾台車", [E('臺中市公共自行車(iBike)租借站&即時車位資料')], probe=r'iBike')
q(G, '08_taichung', "台中半夜猫咪生病哪里的兽医还开着", [E('臺中市夜間急診或24小時急診動物醫院')], probe=r'動物醫院')
q(G, '08_taichung', "台中捷运新路线的站在哪", [E('臺中市捷運綠線車站點位資料')], probe=r'捷運')
q(G, '08_taichung', "台中有多少人活过一百岁", [E('臺中市百年人瑞人口數')], probe=r'人瑞')
q(G, '08_taichung', "高美那片海邊泥灘的生態資料", [E('臺中市國家重要濕地-高美濕地資料')], probe=r'濕地')
q(G, '08_taichung', "台中搭小黃怎麼收費", [E('臺中市計程車費率比較表')], probe=r'計程車')
q(G, '08_taichung', "台中在哪里几点可以倒拉圾，车子现在开到哪", [E('臺中市定時定點垃圾收運地點'), E('臺中市垃圾及資源回收車動態資訊')], probe=r'垃圾')
q(G, '08_taichung', "出國前要打疫苗，台中哪家醫院看出國前的健康諮詢", [E('臺中市旅遊醫學門診醫院名冊')], probe=r'旅遊醫學')
q(G, '08_taichung', "台中生活困难可以去哪里领免费的米和罐头", [E('臺中市愛心食物銀行及發放站')], probe=r'食物銀行')
# ---- Kinmen / Nantou / Pingtung / Miaoli
q(G, '10_kinmen', "金門那些南洋風格老房子整修的成果", [r'洋樓'], probe=r'洋樓|古厝')
q(G, '10_kinmen', "去金门玩要住民宿", [E('金門縣 旅館、民宿名冊')], probe=r'民宿')
q(G, '10_kinmen', "在台湾的金门人组织", [E('旅台各金門同鄉會名冊')], probe=r'同鄉會')
q(G, '11_nantou', "埔里發生地震要往哪裡逃", [E('南投縣埔里鎮防災避難地圖')], probe=r'埔里')
q(G, '11_nantou', "南投縣政府週末帶小孩看的免費影片", [r'親子放映室'], probe=r'放映|電影')
q(G, '11_nantou', "南投人最常因为什么病过世", [E('南投縣十大死因')], probe=r'死因')
q(G, '15_pingtung', "屏东共享单车在哪借", [E('屏東公共自行車即時租賃站資訊')], probe=r'自行車')
q(G, '15_pingtung', "屏東長照長輩看病的車子", [E('長期照顧十年計畫-交通接送服務提供單位名單')], probe=r'交通接送')
q(G, '17_miaoli', "苗栗有什么好吃的", [r'^苗栗縣特色美食認證餐廳'], probe=r'美食')
q(G, '17_miaoli', "苗栗觀光工廠", [E('苗栗縣通過觀光工廠評鑑廠商列表')], probe=r'觀光工廠')
q(G, '17_miaoli', "听障人士在苗栗怎么申请手语翻译", [r'手語翻譯'], probe=r'手語')
q(G, '17_miaoli', "苗栗高铁站接驳公车", [E('苗栗高鐵快捷公車資訊')], probe=r'高鐵')
# ---- multi-portal (tune)
q(G, TN + '+08_taichung', "台南或台中哪里可以捐血", [r'捐血中心(固定|巡迴)捐血點'], probe=r'捐血')
q(G, '03_taoyuan+08_taichung', "桃園和台中哪些泡湯業者是政府認證的", [r'領有溫泉標章之溫泉使用事業'], probe=r'溫泉')
G = 'zh-tw'
KH = '09_kaohsiung+kaohsiung.ckan'
# ================= held-back portals
# ---- Kaohsiung (portal list + CKAN)
q(G, KH, "高雄地铁每天多少人坐", [E('高雄捷運及輕軌運量統計'), E('高雄捷運每日暨每月運量統計資料連結(高雄捷運公司官網)'), r'^高雄都會區捷運系統各站旅運量統計表'], probe=r'運量')
q(G, KH, "高雄巴士還要多久才會來", [E('高雄市公車預估到站時間資料')], probe=r'到站')
q(G, KH, "高雄哪几区最多人得骨痛热", [E('高雄市歷年登革熱感染分佈資料')], probe=r'登革熱')
q(G, KH, "高雄最容易发生车祸的路口", [r'前50大易肇事路口', r'^高雄市10大易肇事路口肇因分析表$', r'^高雄市104年度發生交通事故前十大路口$'], probe=r'肇事|交通事故')
q(G, KH, "高雄警察抓喝酒开车的统计", [E('高雄市取締酒駕情形'), E('高雄市取締酒駕及危險駕車勤務'), r'取締酒(後)?駕(車)?前十大路口'], probe=r'酒駕|酒後')
q(G, KH, "去高雄玩想住合法民宿", [E('高雄市民宿資料')], probe=r'民宿')
q(G, KH, "高雄帶狗去哪家獸醫植晶片", [r'高雄市寵物登記站簽約動物醫院'], probe=r'寵物登記')
q(G, KH, "高雄流浪猫狗现在关了多少只", [E('高雄市動物保護處動物收容情形看板')], probe=r'收容')
q(G, KH, "高雄共享單車站點", [E('高雄市公共腳踏車資訊'), E('高雄市公共腳踏車EASY GO!2.0版')], probe=r'腳踏車')
q(G, KH, "中秋節想買高雄得過獎的綠豆椪", [E('高雄綠豆椪得獎店家名單')], probe=r'綠豆椪|伴手禮')
q(G, KH, "高雄哪里有AED", [E('高雄市AED裝設地點')], probe=r'AED|電擊')
q(G, KH, "高雄地鐵紅線橘線和環狀線每站經緯度", [E('高雄紅橘線捷運車站中心座標'), E('高雄輕軌車站中心座標'), E('高雄捷運車站基本資料'), E('高雄捷運路線車站基本資料')], probe=r'車站')
q(G, KH, "高雄叫小黃的電話", [E('高雄市衛星、無線電計程車車隊一覽表(彙整)-修'), E('高雄市多元計程車車隊一覽表')], probe=r'車隊')
q(G, KH, "家人過世 高雄辦喪事和火葬要多少錢", [E('高雄市公立殯儀館收費標準'), E('高雄市公立火化場使用收費標準')], probe=r'殯儀館|火化')
q(G, KH, "高雄魚市場各種魚一公斤多少錢", [r'各種魚類平均價格'], probe=r'魚類')
q(G, KH, "阿公阿嬤在高雄裝全口牙政府出錢的醫院", [E('高雄市老人免費裝假牙特約醫療院所')], probe=r'假牙')
q(G, KH, "高雄想把菸戒掉可以去哪裡看", [E('高雄市二代戒菸合約機構'), E('高雄市戒菸門診合約醫事機構')], probe=r'戒菸')
# ---- Chiayi
q(G, '12_chiayi', "嘉义市区哪里有公共厕所", [E('嘉義市公廁地點')], probe=r'廁')
q(G, '12_chiayi', "在嘉义哪里可以租有马达的单车", [E('嘉義市e-bike公共電動二輪車租借站點')], probe=r'e-bike|二輪車')
q(G, '12_chiayi', "嘉義被捕狗隊抓走的狗 去哪裡找", [E('嘉義市流浪犬收容中心捕捉公告')], probe=r'流浪犬')
q(G, '12_chiayi', "嘉义市长辈可以一起吃午饭的地方", [E('嘉義市提供老人共餐服務地點')], probe=r'共餐')
q(G, '12_chiayi', "嘉義市有哪些賣書的小店", [E('嘉義市書店地圖')], probe=r'書店')
q(G, '12_chiayi', "嘉义市被罚过、欠薪加班不给钱的黑心公司", [E('嘉義市歷年違反勞動基準法業者名單公告')], probe=r'勞動基準法')
q(G, '12_chiayi', "到嘉义必吃什么", [E('嘉義市觀光旅遊網－特色美食店家')], probe=r'美食')
# ---- Keelung
q(G, '16_keelung', "基隆106年9月租房子的真實成交租金", [E('基隆市不動產租賃實價登錄Open Data(106年9月租賃登記案件)')], probe=r'租賃實價')
q(G, '16_keelung', "基隆生活困难哪里可以领免费物资", [E('基隆市食物銀行')], probe=r'食物銀行')
q(G, '16_keelung', "基隆可以带小孩去玩的农庄", [E('基隆市休閒農場OPENDATA')], probe=r'農場')
q(G, '16_keelung', "基隆出海海釣的船", [E('基隆市籍娛樂漁業漁船經營資訊一覽表'), E('基隆市娛樂漁業島礁磯釣證106年度申請縣市別')], probe=r'娛樂漁')
q(G, '16_keelung', "基隆有哪些老房子和有文化价值的建物", [E('基隆市古蹟清冊'), E('基隆市歷史建築清冊')], probe=r'古蹟|歷史建築')
q(G, '16_keelung', "基隆好吃的店推薦", [E('基隆十大食尚餐廳'), E('基隆優質餐廳')], probe=r'餐廳')
q(G, '16_keelung', "基隆在马路旁停车要付钱的时间", [E('基隆市路邊收費路段及收費時間一覽表')], probe=r'收費')
# ---- Changhua
q(G, '18_changhua', "彰化县有哪些游泳池", [E('彰化縣游泳池資料')], probe=r'游泳')
q(G, '18_changhua', "彰化騎腳踏車的路線", [E('彰化縣自行車道資料')], probe=r'自行車')
q(G, '18_changhua', "彰化哪些地方曾经有人在水里出事", [E('彰化縣曾發生溺水事故地點')], probe=r'溺水')
q(G, '18_changhua', "彰化坐月子中心名單", [E('彰化縣產後護理機構')], probe=r'產後')
q(G, '18_changhua', "彰化县空污测站的数据", [E('彰化縣空氣品質人工監測結果'), E('彰化縣空氣品質自動監測結果')], probe=r'空氣')
# ---- multi-portal (held)
q(G, '12_chiayi+18_changhua', "嘉義市或彰化縣曾發生溺水的地方", [E('嘉義市歷年溺水案件'), E('彰化縣曾發生溺水事故地點')], probe=r'溺水')
G = 'none'
N = 'none'
q(G, N, "violent crime rates by US state", probe=r'crime|homicide|robber')
q(G, N, "shinkansen timetable tokyo to osaka", probe=r'shinkansen|japan|tokyo|osaka')
q(G, N, "hourly PM2.5 readings in Beijing", probe=r'beijing|PM2\.5|particulate')
q(G, N, "standardized test scores by school district in california", probe=r'test score|SAT |school district|california')
q(G, N, "hurricane tracks and wind speeds from NOAA", probe=r'hurricane|cyclone|NOAA')
q(G, N, "how many people visit each national park", probe=r'national park|park service|visitor')
q(G, N, "FDA recalls of medicines and food", probe=r'recall|FDA')
q(G, N, "flight delays and cancellations by airline", probe=r'airline|flight|on-time|delay')
q(G, N, "how long does it take to get a US passport", probe=r'passport')
q(G, N, "earthquake history near los angeles", probe=r'earthquake|seismic|USGS')
q(G, N, "wildfire perimeters and acres burned this year", probe=r'wildfire|fire perimeter|acres burned')
q(G, N, "restaurant health inspection grades in new york city", probe=r'restaurant|inspection grade|new york')
q(G, N, "london tube ridership by station", probe=r'london|underground|tube')
q(G, N, "car crash deaths by state NHTSA", probe=r'NHTSA|traffic fatalit|crash|motor vehicle (crash|death)')
q(G, N, "weather forecast for seattle tomorrow", probe=r'seattle|forecast|weather')
q(G, N, "search patents from DOE-funded research", probe=r'patent', note="only a restricted public record (DOE Patents) answers this; a citizen must get nothing relevant")
q(G, N, "bidding on the northeast home heating oil reserve", probe=r'heating oil', note="only a restricted public record (Northeast Home Heating Oil Reserve System) answers this; a citizen must get nothing relevant")
q(G, N, "job corps students' individual performance records", probe=r'job ?corps', note="only restricted public / non-public Job Corps records exist; a citizen must get nothing relevant")
q(G, N, "student loan default rates by college", probe=r'student loan|default rate|cohort default')
q(G, N, "measles cases by county", probe=r'measles')
q(G, N, "prices of used cars kelley blue book", probe=r'used car|blue book|car price')
q(G, N, "北京今天的PM2.5空气质量", probe=r'北京|PM2\.5|細懸浮')
q(G, N, "日本新幹線東京到大阪時刻表", probe=r'新幹線|日本|東京|大阪')
q(G, N, "上海地铁每天客流量", probe=r'上海|地鐵')
q(G, N, "香港公屋轮候时间", probe=r'香港|公屋')
q(G, N, "澎湖縣的人口統計", probe=r'澎湖')
q(G, N, "花莲县合法民宿名单", probe=r'花蓮')
q(G, N, "台东县垃圾车路线", probe=r'臺東|台東')
q(G, N, "雲林縣老人養護機構", probe=r'雲林')
q(G, N, "新北市垃圾车几点到", probe=r'新北.*垃圾|垃圾.*新北')
q(G, N, "美国各州枪击案数量", probe=r'槍擊|gun violence|shooting')
q(G, N, "深圳二手房成交均价", probe=r'深圳')
q(G, N, "中国高考各省录取分数线", probe=r'高考|錄取分數|分數線')
q(G, N, "日本櫻花開花預測", probe=r'櫻花')
q(G, N, "南极海冰面积变化", probe=r'南極|海冰|sea ice|antarctic')
q(G, N, "申根签证办理需要多久", probe=r'申根|簽證|schengen|visa')
q(G, N, "台灣高鐵各站每日進出站人數", probe=r'高鐵.*(運量|人數|進出)|台灣高鐵|臺灣高鐵')
q(G, N, "台北到高雄的国内航班准点率", probe=r'航班|準點|班機')
q(G, N, "全台加油站今天油价", probe=r'油價')
q(G, N, "美国各大学学费排名", probe=r'學費排名|university ranking|tuition rank')
q(G, N, "欧盟各国失业率比较", probe=r'歐盟|european union|eurostat')
q(G, N, "广州公办幼儿园报名", probe=r'廣州|广州')


def build(root: Path) -> list[dict]:
    records = load_records(root)
    public = [r for r in records if r["access"] == "public"]
    counters: dict[str, int] = {}
    none_seen = 0
    rows = []
    for spec in SPECS:
        group = spec["group"]
        counters[group] = counters.get(group, 0) + 1
        allowed = spec["portal"].split("+")
        relevant: dict[str, set] = {}
        for r in public:
            if r["portal"] in allowed and any(re.search(p, r["title"]) for p in spec["pats"]) \
                    and not any(re.search(x, r["title"]) for x in spec["ex"]):
                relevant.setdefault(r["title"], set()).add(r["portal"])
        if group == "none":
            portal, part = "none", ("held_back" if none_seen % 3 == 2 else "tune")
            none_seen += 1
        else:
            if not relevant:
                raise SystemExit(f"no public title matches {spec['pats']} for {spec['query']!r}")
            used = sorted({p for ps in relevant.values() for p in ps}, key=allowed.index)
            portal = "+".join(used)
            parts = {p in HELD_BACK for p in used}
            if len(parts) != 1:
                raise SystemExit(f"{spec['query']!r} mixes tune and held-back portals: {used}")
            part = "held_back" if parts.pop() else "tune"
        notes = [spec["note"]] if spec["note"] else []
        hidden = sorted({r["title"] for r in records if r["access"] != "public" and r["portal"] in allowed
                         and any(re.search(p, r["title"]) for p in spec["pats"] + spec["hidden"])})
        if spec["hidden"] and not hidden:
            raise SystemExit(f"hidden patterns {spec['hidden']} match no non-public record for {spec['query']!r}")
        if hidden:
            notes.append("not listed, not public (a citizen must never get them): " + "; ".join(hidden))
        row = {"id": f"{GROUP_PREFIX[group]}-{counters[group]:03d}", "group": group, "portal": portal, "part": part,
               "query": spec["query"], "relevant": sorted(relevant)}
        if notes:
            row["note"] = " | ".join(notes)
        rows.append(row)
    return rows


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "../shared/data/catalogs")
    rows = build(root)
    out = Path(__file__).with_name("datasets_dev_v2.jsonl")
    with out.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    for row in rows:
        print(f"{row['id']}\t{row['part']}\t{row['portal']}\t{len(row['relevant'])}\t{row['query']}", file=sys.stderr)


if __name__ == "__main__":
    main()
