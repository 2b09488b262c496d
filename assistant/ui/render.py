"""HTML and Markdown the web app shows: every value from a catalog, a document or a table is escaped here."""

import html
from typing import Any

from assistant.sql.guard.model import WITHHELD_REASON
from assistant.ui.text import text

PAGE_ROWS = 25
SQL_PREFIX = "govdata-sql:"


def esc(value: object) -> str:
    return html.escape(str(value))


def link(url: str) -> str:
    """Only web links are clickable: a catalog could carry a javascript: URL."""
    if url.lower().startswith(("https://", "http://")):
        return f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{esc(url[:80])}</a>'
    return f"<code>{esc(url[:80])}</code>" if url else ""


def approved_tables(results: list[Any]) -> list[str]:
    """Names of registered approved tables among dataset search results, in result order."""
    return [r.identifier[len(SQL_PREFIX):] for r in results if r.identifier.startswith(SQL_PREFIX)]


def dataset_cards(results: list[Any], lang: str) -> str:
    if not results:
        return f"<p>{esc(text('no_datasets', lang))}</p>"
    cards = []
    for r in results:
        approved = r.identifier.startswith(SQL_PREFIX)
        hint = f'<p class="query-hint">✔ {esc(text("query_in_workbench", lang))}</p>' if approved else ""
        description = f"<p>{esc(_without_cli(r.description)[:300])}</p>" if r.description else ""
        matched = (f'<p class="matched">{esc(text("matched", lang))}: {esc(", ".join(r.matched))}</p>'
                   if getattr(r, "matched", None) else "")
        url = "" if approved else link(r.url)  # an approved table's "link" is a CLI command, not a page
        cards.append(f'<div class="dataset-card"><h4>{esc(r.title)}</h4><p>{esc(card_facts(r, lang))}</p>'
                     f"{matched}{description}{url}{hint}</div>")
    return "\n".join(cards)


def _without_cli(description: str) -> str:
    """An approved table's description without the line written for the CLI (`govdata sql ask ...`)."""
    return "\n".join(line for line in description.splitlines() if "govdata sql ask" not in line)


_EVERY = {1 / 24: ("hourly", "每小时"), 1.0: ("daily", "每日"), 7.0: ("weekly", "每周"),
          14.0: ("every two weeks", "每两周"), 30.0: ("monthly", "每月"), 90.0: ("quarterly", "每季度"),
          91.0: ("quarterly", "每季度"), 182.0: ("twice a year", "每半年"), 365.0: ("yearly", "每年")}


def frequency_words(declared: str, lang: str) -> str:
    """A declared update frequency as people say it (R/P1M -> "updated monthly"), else as declared."""
    from assistant.register.periodicity import read_periodicity

    days = read_periodicity(declared).days
    words = next((w for d, w in _EVERY.items() if days is not None and abs(d - days) < 1e-6), None)
    chosen = (words[1] if lang == "zh" else words[0]) if words else declared.strip()
    return f"{text('frequency', lang)} {chosen}"


def card_facts(r: Any, lang: str) -> str:
    """What a card says about a record, only the parts it has: publisher · level · formats · updated DATE ·
    update frequency · quality N/100 (issue 17: no "-" placeholders)."""
    parts = [r.publisher, r.access_level, ", ".join(r.formats)]
    if r.modified:
        parts.append(f"{text('updated', lang)} {r.modified[:10]}")
    if getattr(r, "update_frequency", ""):
        parts.append(frequency_words(r.update_frequency, lang))
    if getattr(r, "quality", None) is not None:
        parts.append(text("quality", lang, score=r.quality))
    return " · ".join(p for p in parts if p)


def answer_markdown(answer: Any) -> str:
    """The answer, then each citation as an expandable quote with its source (a "not found" answer names
    the closest sources in its own text)."""
    parts = [esc(answer.answer)]
    dropped = getattr(answer, "dropped", None)
    if dropped:  # issue 29: what the checks removed, so a reader knows the answer was cut
        lang = "zh" if getattr(answer, "language", "en") == "zh" else "en"
        removed = "".join(f"\n> {esc(sentence)}" for sentence in dropped)
        parts.append(f"<details><summary>{esc(text('dropped_sentences', lang, n=len(dropped)))}</summary>\n{removed}"
                     "</details>")
    for c in answer.citations:  # named as a person would cite it; a link only where the source has a web address
        source = f"\n\n{link(c.url)}" if c.url else ""
        parts.append(f"<details><summary>[{c.n}] {esc(c.label)}</summary>\n\n> {esc(c.quote)}{source}</details>")
    return "\n\n".join(parts)


def datasets_markdown(results: list[Any], lang: str) -> str:
    if not results:
        return esc(text("nothing_matches", lang))
    lines = [esc(text("datasets_found", lang))]
    for n, r in enumerate(results, 1):
        why = f" ({esc(text('matched', lang))}: {esc(', '.join(r.matched))})" if getattr(r, "matched", None) else ""
        lines.append(f"{n}. **{esc(r.title)}** — {esc(card_facts(r, lang))}{why} {link(r.url)}".rstrip())
    return "\n".join(lines)


def table_markdown(columns: list[str], rows: list[list[Any]], limit: int = 10) -> str:
    def cell(value: Any) -> str:
        return esc("" if value is None else value).replace("|", "\\|").replace("\n", " ")

    head = "| " + " | ".join(cell(c) for c in columns) + " |"
    rule = "|" + "---|" * len(columns)
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows[:limit]]
    return "\n".join([head, rule, *body])


def sql_markdown(answer: Any, lang: str) -> str:
    """A SQL answer in the chat: the SQL, the explanation, the first rows, the dataset versions; when the
    candidates disagreed, a clarifying question first (the readings, to pick under the conversation)."""
    if answer.error:
        return f"{esc(text('error', lang))}: {esc(answer.error)}"
    versions = ", ".join(f"{k}@{v}" for k, v in answer.dataset_versions.items())
    doubt = clarifying_markdown(answer, lang) if getattr(answer, "uncertain", False) else uncertainty_markdown(
        answer, lang)
    parts = [doubt, f"```sql\n{answer.sql}\n```", esc(answer.explanation),
             withheld_markdown(getattr(answer, "withheld", []), lang),
             table_markdown(answer.columns, answer.rows), sdc_markdown(answer, lang),
             f"{esc(text('rows', lang, n=answer.row_count))} · {esc(text('datasets_used', lang))}: {esc(versions)}",
             knowledge_line(answer, lang), esc(text("sql_more", lang))]
    return "\n\n".join(p for p in parts if p)


def knowledge_line(answer: Any, lang: str) -> str:
    """The knowledge items the answer's prompt was taught (issue 32), or "" when none."""
    used = getattr(answer, "knowledge", None)
    return f"{esc(text('knowledge_used', lang))}: {esc(', '.join(used))}" if used else ""


def receipt_markdown(receipt: Any, lang: str, steward: bool = False) -> str:
    """The compact receipt under an answer or a result: id, time, sources, dataset versions, the SQL that ran,
    rows, model, and a line to copy as a citation; stewards also get the commands that replay and verify it."""
    from pathlib import PurePath

    facts = [text("receipt_line", lang, id=receipt.id, time=receipt.time[:19].replace("T", " "))]
    if receipt.sources:
        facts.append(f"{text('receipt_sources', lang)}: " + "; ".join(PurePath(s).stem for s in receipt.sources))
    if receipt.datasets:
        facts.append(f"{text('datasets_used', lang)}: " + ", ".join(f"{k}@{v}" if v else k
                                                                    for k, v in receipt.datasets.items()))
    if receipt.row_count is not None:
        facts.append(text("rows", lang, n=receipt.row_count))
    if receipt.model:
        facts.append(f"{text('receipt_model', lang)}: {receipt.model}")
    body = [esc(" · ".join(facts))]
    if receipt.sql:
        body.append(f"```sql\n{receipt.sql}\n```")
    cite = f"GovData Assistant, receipt #{receipt.id}, {receipt.time[:19]}Z, sha256 {receipt.hash[:16]}"
    body.append(f"{esc(text('receipt_cite', lang))}\n```text\n{cite}\n```")
    if steward:
        body.append(esc(text("receipt_steward", lang, id=receipt.id)))
    return (f"<details class=\"receipt\"><summary>{esc(text('receipt_summary', lang, id=receipt.id))}</summary>"
            f"\n\n" + "\n\n".join(body) + "\n\n</details>")


def withheld_markdown(withheld: list[dict[str, str]], lang: str) -> str:
    """What a `*` left out and why ("permits.phone left out: sensitive: not visible to this role")."""
    if not withheld:
        return ""
    listed = ", ".join(w["column"] for w in withheld)
    reason = withheld[0]["reason"]
    if lang == "zh" and reason == WITHHELD_REASON:
        reason = "敏感字段，当前角色不可见"
    return esc(text("left_out", lang, columns=listed, reason=reason))


def sdc_markdown(result: Any, lang: str) -> str:
    """Disclosure control's note under a protected result (issue 35): which rules shaped it."""
    report = getattr(result, "sdc", None)
    if not report:
        return ""
    return f"*{esc(text('sdc', lang, notice=report['notice'], table=report['table'], k=report['k']))}*"


def uncertainty_markdown(answer: Any, lang: str) -> str:
    """When the SQL candidates disagreed: how much, and the other readings with their SQL and row counts; when
    an empty result is about data the role may not use, that note; when the plain prompt wrote the query, or values
    ran in the data's spelling, that."""
    lines = [f"**{esc(text('withheld', lang))}**"] if getattr(answer, "notice", None) else []
    if getattr(answer, "fallback", False):
        lines.append(f"**{esc(text('fallback', lang))}**")
    if getattr(answer, "respelled", None):
        lines.append(f"*{esc(text('respelled', lang, changes=', '.join(answer.respelled)))}*")
    if not getattr(answer, "uncertain", False):
        return "\n\n".join(lines)
    lines.append(f"**{esc(text('uncertain', lang, pct=round(100 * (answer.confidence or 0))))}**")
    for alternative in answer.alternatives[:3]:
        label = text("alternative", lang, votes=alternative["votes"], rows=alternative["row_count"])
        lines.append(f"{esc(label)}:\n```sql\n{alternative['sql']}\n```")
    return "\n\n".join(lines)


def clarifying_markdown(answer: Any, lang: str) -> str:
    """The Ask tab's question back when the candidates disagreed: each reading in plain words with its row
    count, the one shown first; the user picks another under the conversation or rephrases."""
    readings = [text("reading_shown", lang, explanation=answer.explanation or "—", rows=answer.row_count)]
    readings += [text("reading_other", lang, explanation=a.get("explanation") or a["sql"], rows=a["row_count"])
                 for a in answer.alternatives[:3]]
    listed = "\n".join(f"{n}. {esc(line)}" for n, line in enumerate(readings, 1))
    notice = f"**{esc(text('withheld', lang))}**\n\n" if getattr(answer, "notice", None) else ""
    return (f"{notice}**{esc(text('clarify', lang, pct=round(100 * (answer.confidence or 0))))}**\n\n{listed}\n\n"
            f"{esc(text('clarify_pick', lang))}")


def result_markdown(result: Any, lang: str) -> str:
    """A result of SQL that ran (no explanation of its own): the SQL, the first rows, the dataset versions."""
    versions = ", ".join(f"{k}@{v}" for k, v in result.dataset_versions.items())
    parts = [f"```sql\n{result.sql}\n```", withheld_markdown(getattr(result, "withheld", []), lang),
             table_markdown(result.columns, result.rows), sdc_markdown(result, lang),
             f"{esc(text('rows', lang, n=result.row_count))} · {esc(text('datasets_used', lang))}: {esc(versions)}"]
    return "\n\n".join(p for p in parts if p)


def page_of(rows: list[list[Any]], page: int) -> tuple[int, list[list[Any]], int, int]:
    """(page clamped to range, its rows, first row number, last row number) for PAGE_ROWS per page."""
    pages = max(1, -(-len(rows) // PAGE_ROWS))
    page = min(max(page, 0), pages - 1)
    chunk = rows[page * PAGE_ROWS:(page + 1) * PAGE_ROWS]
    first = page * PAGE_ROWS + 1 if chunk else 0
    return page, chunk, first, first + len(chunk) - 1 if chunk else 0


RECEIPT_COLUMNS = ["id", "time", "user", "role", "action", "question", "sources", "datasets", "sql", "rows",
                   "outcome", "interface"]


def receipt_rows(receipts: list[Any]) -> list[list[Any]]:
    return [[r.id, r.time[:19].replace("T", " "), r.user, r.role, r.action, r.question[:200],
             "; ".join(r.sources)[:300], ", ".join(f"{k}@{v}" for k, v in r.datasets.items())[:300], r.sql[:500],
             "" if r.row_count is None else r.row_count, r.outcome[:200], r.interface] for r in receipts]
