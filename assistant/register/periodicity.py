"""Declared update frequencies (DCAT accrualPeriodicity, CKAN extras, portal words) read as days between updates.

ISO 8601 repeating durations (`R/P1D`, `R/P3M`, `R/PT1H`), DCAT-US and Dublin Core words (daily, quarterly,
irregular, continuously updated) and Chinese portal words (每日, 每月, 每季, 每1年, 不定期, 即時) in Simplified and
Traditional script. Anything else is reported as unknown, never guessed.
"""

import re
from dataclasses import dataclass

_DAYS_PER = {"Y": 365.0, "M": 30.0, "W": 7.0, "D": 1.0, "H": 1 / 24, "MIN": 1 / 1440, "S": 1 / 86400}
_ISO = re.compile(r"^R\d*/P(?:(?P<Y>\d+(?:\.\d+)?)Y)?(?:(?P<M>\d+(?:\.\d+)?)M)?(?:(?P<W>\d+(?:\.\d+)?)W)?"
                  r"(?:(?P<D>\d+(?:\.\d+)?)D)?(?:T(?:(?P<H>\d+(?:\.\d+)?)H)?(?:(?P<MIN>\d+(?:\.\d+)?)M)?"
                  r"(?:(?P<S>\d+(?:\.\d+)?)S)?)?$", re.I)
_WORDS = {
    "continuous": 1.0, "continuously updated": 1.0, "continual": 1.0, "realtime": 1.0, "real-time": 1.0,
    "real time": 1.0, "hourly": 1 / 24, "daily": 1.0, "twice a week": 3.5, "semiweekly": 3.5, "weekly": 7.0,
    "biweekly": 14.0, "fortnightly": 14.0, "twice a month": 15.0, "semimonthly": 15.0, "monthly": 30.0,
    "bimonthly": 60.0, "quarterly": 91.0, "three times a year": 122.0, "triennially": 1095.0,
    "semiannual": 182.0, "semiannually": 182.0, "biannual": 182.0, "biannually": 182.0, "annual": 365.0,
    "annually": 365.0, "yearly": 365.0, "biennial": 730.0, "biennially": 730.0, "decennial": 3650.0,
}
_NO_SCHEDULE = {"irregular", "irregularly", "as needed", "asneeded", "as-needed", "never", "not planned",
                "notplanned", "unknown", "other", "none", "ad hoc", "adhoc", "one time", "one-time", "once",
                "不定期", "不定期更新", "不更新", "無", "无", "一次性", "停止更新"}
_ZH_UNITS = {"時": 1 / 24, "时": 1 / 24, "小時": 1 / 24, "小时": 1 / 24, "日": 1.0, "天": 1.0, "週": 7.0, "周": 7.0,
             "星期": 7.0, "旬": 10.0, "月": 30.0, "季": 91.0, "半年": 182.0, "年": 365.0}
_ZH = re.compile(r"^(?:每|逐)(?P<n>\d+|[一二兩两三四五六七八九十]+)?(?:個|个)?"
                 r"(?P<unit>小時|小时|星期|半年|[時时日天週周旬月季年])")
_ZH_REALTIME = ("即時", "即时", "實時", "实时", "隨時", "随时", "動態", "动态")
_ZH_NUMBERS = {"一": 1, "二": 2, "兩": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
               "十": 10}
_DCAT_URI = re.compile(r"^https?://purl\.org/cld/freq/(\w+)$", re.I)


@dataclass(frozen=True)
class Periodicity:
    """`days` between expected updates, or None; `known` is False for a string we could not read."""

    raw: str
    days: float | None
    known: bool

    @property
    def scheduled(self) -> bool:
        return self.days is not None


def read_periodicity(value: str) -> Periodicity:
    raw = (value or "").strip()
    text = raw.lower().strip(" .")
    if not text:
        return Periodicity(raw, None, True)
    if (uri := _DCAT_URI.match(text)) is not None:  # Dublin Core frequency URIs: .../freq/monthly
        text = uri.group(1).lower()
    if (iso := _ISO.match(text.upper())) is not None and any(iso.groupdict().values()):
        days = sum(float(v) * _DAYS_PER[k] for k, v in iso.groupdict().items() if v)
        return Periodicity(raw, days or None, True)
    if text in _WORDS:
        return Periodicity(raw, _WORDS[text], True)
    if text in _NO_SCHEDULE or text.rstrip("更新") in _NO_SCHEDULE:
        return Periodicity(raw, None, True)
    if any(word in text for word in _ZH_REALTIME):
        return Periodicity(raw, 1.0, True)
    if (zh := _ZH.match(text)) is not None:
        count = zh.group("n") or "1"
        number = int(count) if count.isdigit() else _zh_number(count)
        return Periodicity(raw, max(number, 1) * _ZH_UNITS[zh.group("unit")], True)
    return Periodicity(raw, None, False)


def _zh_number(text: str) -> int:
    """一..九十九 (portal words rarely go further)."""
    if "十" not in text:
        return _ZH_NUMBERS.get(text, 1)
    tens, _, ones = text.partition("十")
    return (_ZH_NUMBERS.get(tens, 1) if tens else 1) * 10 + (_ZH_NUMBERS.get(ones, 0) if ones else 0)
