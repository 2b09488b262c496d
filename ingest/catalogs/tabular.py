"""Catalogs that are tables (CSV/TSV files or JSON lists of flat rows), read through a column mapping.

The mapping comes from the `catalog.columns` option (a dict field -> column name, or for headerless files
a list of fields by position); fields it does not name are found by common header names in Chinese and
English, e.g. the Taiwan portal lists' 資料集名稱 / 資料來源(部會單位) / 主要欄位.
"""

import csv
import io
from typing import Any

from core.errors import IngestError
from core.records import Dataset

from .common import (
    RecordError,
    access_level_or_strict,
    distribution,
    load_records,
    stable_identifier,
    text,
    text_list,
)

FIELDS = ("identifier", "title", "description", "publisher", "keywords", "fields", "modified", "url",
          "format", "license", "access_level", "themes", "spatial", "accrual_periodicity", "contact")

HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "identifier": ("identifier", "dataset_id", "識別碼", "识别码", "資料集識別碼", "数据集标识"),
    "title": ("title", "name", "dataset", "dataset_name", "資料集名稱", "资料集名称", "数据集名称", "數據集名稱",
              "資料名稱", "数据名称", "名稱", "名称", "標題", "标题"),
    "description": ("description", "notes", "summary", "描述", "說明", "说明", "資料集描述", "数据集描述",
                    "摘要", "簡介", "简介"),
    "publisher": ("publisher", "organization", "agency", "資料來源(部會單位)", "提供機關", "提供机关", "發布單位",
                  "发布单位", "数据提供方", "資料提供機關", "部會單位", "来源部门"),
    "keywords": ("keywords", "keyword", "tags", "關鍵字", "关键词", "關鍵詞", "標籤", "标签"),
    "fields": ("fields", "columns", "主要欄位", "主要字段", "欄位", "字段", "資料欄位"),
    "modified": ("modified", "last_updated", "updated", "最後更新時間", "最后更新时间", "更新時間", "更新时间",
                 "更新日期"),
    "url": ("url", "link", "landing_page", "landingpage", "網址", "网址", "链接", "連結", "slug"),
    "format": ("format", "formats", "格式", "檔案格式", "文件格式"),
    "license": ("license", "licence", "授權", "授权", "许可"),
    "access_level": ("accesslevel", "access_level", "access", "開放類型", "开放类型", "公開屬性", "开放属性"),
    "themes": ("theme", "themes", "category", "分類", "分类", "服務分類", "第一層級"),
    "spatial": ("spatial", "地區", "地区", "行政區", "行政区"),
    "accrual_periodicity": ("accrualperiodicity", "accrual_periodicity", "update_frequency", "frequency",
                            "更新頻率", "更新频率", "更新週期", "更新周期"),
    "contact": ("contact", "contactpoint", "contact_point", "maintainer", "聯絡人", "联系人", "聯絡方式", "联系方式",
                "聯絡人姓名", "联系人姓名"),
}


def _normalise(name: str) -> str:
    return name.strip().lstrip("\ufeff").lower().replace(" ", "")


def resolve_columns(header: list[str], mapping: dict[str, str], path: str) -> dict[str, str]:
    """field -> column for this header: explicit mapping first (checked), then known header names."""
    unknown_fields = set(mapping) - set(FIELDS)
    if unknown_fields:
        raise IngestError(path, f"column mapping has unknown field(s) {sorted(unknown_fields)}; "
                                f"known: {', '.join(FIELDS)}")
    missing = [f"{fld}={col!r}" for fld, col in mapping.items() if col not in header]
    if missing:
        raise IngestError(path, f"column mapping names missing column(s) {', '.join(missing)}; "
                                f"the file has: {', '.join(header)}")
    by_norm = {_normalise(col): col for col in header}
    resolved = dict(mapping)
    for fld in FIELDS:
        if fld not in resolved:
            hit = next((by_norm[s] for s in map(_normalise, HEADER_SYNONYMS[fld]) if s in by_norm), None)
            if hit is not None:
                resolved[fld] = hit
    if "title" not in resolved:
        raise IngestError(path, f"no title column found (columns: {', '.join(header)}); "
                                "set catalog.columns in a .govdata.json options file")
    return resolved


def read_csv_table(raw: str, path: str) -> list[list[str]]:
    """Non-empty rows of a CSV/TSV; the delimiter is the most frequent candidate on the first line."""
    first_line = raw.split("\n", 1)[0]
    delimiter = max(",\t;|", key=first_line.count)
    reader = csv.reader(io.StringIO(raw), delimiter=delimiter, strict=True)
    try:
        table = [row for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise IngestError(path, f"malformed CSV: {exc}", line=reader.line_num) from None
    if not table:
        raise IngestError(path, "empty catalog: no rows")
    return table


def _has_known_title(header: list[str]) -> bool:
    names = {_normalise(col) for col in header}
    return any(_normalise(s) in names for s in HEADER_SYNONYMS["title"])


def _looks_like_link(cell: str) -> bool:
    return cell.startswith(("/", "http://", "https://"))


def guess_headerless(table: list[list[str]]) -> list[str] | None:
    """Field names for a headerless list, from what its cells look like: links are the url column, the
    shortest text column the title, the longest the description. None when the rows give no such shape."""
    sample = table[:50]
    width = max(len(row) for row in sample)
    if width < 2:
        return None
    columns = [[row[i].strip() for row in sample if i < len(row)] for i in range(width)]
    links = [i for i, cells in enumerate(columns) if cells and sum(map(_looks_like_link, cells)) / len(cells) > 0.8]
    texts = [i for i in range(width) if i not in links and any(columns[i])]
    if not texts:
        return None
    mean_len = {i: sum(len(c) for c in columns[i]) / max(len(columns[i]), 1) for i in texts}
    title = min(texts, key=lambda i: mean_len[i])
    fields = [""] * width
    fields[title] = "title"
    rest = [i for i in texts if i != title]
    if rest:
        fields[max(rest, key=lambda i: mean_len[i])] = "description"
    if links:
        fields[links[0]] = "url"
    return [f or f"column_{i + 1}" for i, f in enumerate(fields)]


def rows_from_csv(raw: str, options: dict[str, Any], path: str,
                  warnings: list[str]) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of a CSV/TSV catalog. Headerless files take their header from the mapping list,
    or, when no header cell is recognised and no mapping is given, from the shape of the cells."""
    table = read_csv_table(raw, path)
    columns = options.get("columns")
    if options.get("header", True) is False:
        if not isinstance(columns, list):
            raise IngestError(path, "header=false needs catalog.columns as a list of fields by position")
        header, body = [str(c) for c in columns], table
    else:
        header, body = [c.strip().lstrip("\ufeff") for c in table[0]], table[1:]
        guessed = None if columns or _has_known_title(header) else guess_headerless(table)
        if guessed is not None:
            warnings.append(f"no header recognised; read as headerless with columns {', '.join(guessed)}")
            header, body = guessed, table
    return header, [dict(zip(header, row, strict=False)) for row in body]


def rows_from_json(data: list[Any], path: str) -> tuple[list[str], list[dict[str, str]]]:
    header: dict[str, None] = {}
    rows = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise IngestError(path, f"row {index} is not an object")
        rows.append({str(k): text(v) for k, v in item.items()})
        for key in item:
            header.setdefault(str(key), None)
    return list(header), rows


def load_tabular(header: list[str], rows: list[dict[str, str]], catalog_name: str, options: dict[str, Any],
                 default_access: str, warnings: list[str], path: str, errors: list[str]) -> list[Dataset]:
    mapping = options.get("columns") if isinstance(options.get("columns"), dict) else {}
    columns = resolve_columns(header, dict(mapping or {}), path)
    base_url = str(options.get("base_url", "")).rstrip("/")

    def parse(index: int, row: dict[str, Any]) -> Dataset:
        return _record(row, columns, catalog_name, options, base_url, default_access, warnings, index)

    out = load_records(rows, parse, errors)
    if not out:
        raise IngestError(path, "no record with a title" + (f" ({errors[0]})" if errors else ""))
    return out


def _record(row: dict[str, str], columns: dict[str, str], catalog_name: str, options: dict[str, Any],
            base_url: str, default_access: str, warnings: list[str], index: int) -> Dataset:
    def get(fld: str) -> str:
        return text(row.get(columns[fld], "")) if fld in columns else ""

    title = get("title")
    if not title:
        raise RecordError("empty title")
    publisher = get("publisher") or text(options.get("publisher"))
    identifier = get("identifier")
    url = get("url")
    if url.startswith("/") and base_url:
        url = base_url + url
    return Dataset(
        identifier=identifier or stable_identifier(catalog_name, title, publisher, get("description")),
        generated_identifier=not identifier,
        title=title,
        description=get("description"),
        keywords=text_list(get("keywords")),
        publisher=publisher,
        access_level=access_level_or_strict(get("access_level") or None, default_access, warnings,
                                            f"row {index + 1}"),
        modified=get("modified"),
        accrual_periodicity=get("accrual_periodicity"),
        contact=get("contact"),
        distributions=(distribution(get("format"), url),) if (url or get("format")) else (),
        license=get("license"),
        themes=text_list(get("themes")),
        spatial=get("spatial"),
        fields=text_list(get("fields")),
        landing_page=url,
        catalog="tabular",
    )
