"""Check eval/datasets_dev_v2.jsonl against the catalogs it was judged on (standard library only).

Checks, per line: the fields, a unique id, a known group and part; every `relevant` title exists as the title
of a PUBLIC record (titles as ingest stores them: stripped DCAT `title`, Taiwan portal 資料集名稱, first CKAN
CSV column) in one of the line's portals, and is not only the title of a restricted or non-public record;
`none` lines list nothing. Per file: the split holds whole portals (a portal's lines are all tune or all
held_back, and `none` lines alternate tune, tune, held_back), and no relevant title of one part is also a
public title in a portal of the other part (that record would be a hit for both parts), and no relevant title
of a held_back line was a relevant title of the old, tuned-on eval/datasets_dev.jsonl. Prints the counts per
group and part. Exits 1 on any error.

Run: python eval/check_datasets_dev_v2.py [eval/datasets_dev_v2.jsonl] [../shared/data/catalogs]
"""

import csv
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
GROUPS = ("en", "zh-en", "zh-tw", "none")
PARTS = ("tune", "held_back")
FIELDS = ("id", "group", "portal", "part", "query", "relevant")
HELD_BACK = {"fcc", "gsa", "treasury", "09_kaohsiung", "kaohsiung.ckan", "12_chiayi", "16_keelung", "18_changhua"}


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


def load_titles(root: Path) -> dict[str, dict[str, set[str]]]:
    """title -> {"public": portals, "hidden": portals} over all three catalog families."""
    titles: dict[str, dict[str, set[str]]] = defaultdict(lambda: {"public": set(), "hidden": set()})

    def add(title: str, portal: str, access: str) -> None:
        if title:
            titles[title]["public" if access == "public" else "hidden"].add(portal)

    for path in sorted((root / "us_federal_datajson").glob("*.data.json")):
        for record in json.loads(path.read_text(encoding="utf-8"))["dataset"]:
            add(_text(record.get("title")), path.name.split(".")[0],
                (_text(record.get("accessLevel")) or "public").lower())
    for path in sorted((root / "tw_city_portals_2018").glob("*.json")):
        for record in json.loads(path.read_text(encoding="utf-8")):
            add(_text(record.get("資料集名稱")), path.stem, "public")
    for path in sorted((root / "tw_ckan_2018").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle):
                if row:
                    add(row[0].strip(), path.name.split(".")[0] + ".ckan", "public")
    return titles


def main() -> int:
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "datasets_dev_v2.jsonl"
    root = Path(sys.argv[2]) if len(sys.argv) > 2 else HERE.parent.parent / "shared" / "data" / "catalogs"
    titles = load_titles(root)
    portals = {p for entry in titles.values() for side in entry.values() for p in side}
    errors: list[str] = []
    warnings: list[str] = []
    rows = []
    for number, line in enumerate(data.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"line {number}: invalid JSON ({exc.msg})")
            continue
        missing = [f for f in FIELDS if f not in row]
        if missing:
            errors.append(f"line {number}: missing {missing}")
            continue
        row["_line"] = number
        rows.append(row)

    ids = Counter(row["id"] for row in rows)
    for dup, n in ids.items():
        if n > 1:
            errors.append(f"id {dup!r} used {n} times")

    part_of_portal: dict[str, set[str]] = defaultdict(set)
    none_index = 0
    for row in rows:
        where = f"line {row['_line']} ({row['id']})"
        group, part, relevant = row["group"], row["part"], row["relevant"]
        if group not in GROUPS:
            errors.append(f"{where}: unknown group {group!r}")
        if part not in PARTS:
            errors.append(f"{where}: unknown part {part!r}")
        if not isinstance(relevant, list) or not all(isinstance(t, str) for t in relevant):
            errors.append(f"{where}: relevant is not a list of titles")
            continue
        if len(set(relevant)) != len(relevant):
            errors.append(f"{where}: a title is listed twice")
        if not str(row["query"]).strip():
            errors.append(f"{where}: empty query")
        if group == "none":
            if relevant:
                errors.append(f"{where}: a none query lists relevant records")
            if row["portal"] != "none":
                errors.append(f"{where}: a none query's portal must be 'none'")
            expected = "held_back" if none_index % 3 == 2 else "tune"
            if part != expected:
                errors.append(f"{where}: none line {none_index + 1} should be {expected}")
            none_index += 1
            continue
        if not relevant:
            errors.append(f"{where}: no relevant records")
        line_portals = row["portal"].split("+")
        for portal in line_portals:
            if portal not in portals:
                errors.append(f"{where}: unknown portal {portal!r}")
            part_of_portal[portal].add(part)
            if (portal in HELD_BACK) != (part == "held_back"):
                errors.append(f"{where}: portal {portal} belongs to the other part")
        for title in relevant:
            entry = titles.get(title)
            if entry is None or not (entry["public"] or entry["hidden"]):
                errors.append(f"{where}: no record is titled {title!r}")
            elif not entry["public"]:
                errors.append(f"{where}: {title!r} is only the title of non-public records "
                              f"({', '.join(sorted(entry['hidden']))})")
            elif not entry["public"] & set(line_portals):
                errors.append(f"{where}: {title!r} is public only in {sorted(entry['public'])}, "
                              f"not in {line_portals}")
            else:
                other = {p for p in entry["public"] if (p in HELD_BACK) != (part == "held_back")}
                if other:
                    errors.append(f"{where}: {title!r} is also a public title in {sorted(other)} "
                                  f"(other part): the split would leak")
                if entry["hidden"]:
                    warnings.append(f"{where}: {title!r} is also the title of non-public records in "
                                    f"{sorted(entry['hidden'])}")

    for portal, parts in sorted(part_of_portal.items()):
        if len(parts) > 1:
            errors.append(f"portal {portal} has lines in both parts")

    old_file = HERE / "datasets_dev.jsonl"
    old_message = ""
    if old_file.is_file():
        old_titles = {t for line in old_file.read_text(encoding="utf-8").splitlines() if line.strip()
                      for t in json.loads(line).get("relevant", [])}
        shared = Counter()
        for row in rows:
            for title in row["relevant"]:
                if title in old_titles:
                    shared[row["part"]] += 1
                    if row["part"] == "held_back":
                        errors.append(f"line {row['_line']} ({row['id']}): {title!r} was relevant in the tuned-on "
                                      f"{old_file.name}; a held-back record must be one no tuning saw")
        old_message = (f"relevant titles shared with the old {old_file.name}: tune {shared['tune']}, "
                       f"held_back {shared['held_back']}")

    counts = Counter((row["group"], row["part"]) for row in rows)
    print(f"{data}: {len(rows)} lines, {len(ids)} ids")
    print(f"{'group':8} {'tune':>5} {'held_back':>10} {'total':>6} {'held %':>7}")
    for group in GROUPS:
        tune, held = counts[(group, "tune")], counts[(group, "held_back")]
        total = tune + held
        print(f"{group:8} {tune:5} {held:10} {total:6} {100 * held / total if total else 0:6.1f}%")
    tune = sum(v for (g, p), v in counts.items() if p == "tune")
    held = sum(v for (g, p), v in counts.items() if p == "held_back")
    print(f"{'all':8} {tune:5} {held:10} {tune + held:6} {100 * held / (tune + held):6.1f}%")
    print("held-back portals:", ", ".join(sorted(p for p, parts in part_of_portal.items() if "held_back" in parts)))
    if old_message:
        print(old_message)
    for message in warnings:
        print("warning:", message)
    for message in errors:
        print("ERROR:", message)
    print("OK" if not errors else f"{len(errors)} error(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
