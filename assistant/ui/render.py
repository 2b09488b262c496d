"""HTML and Markdown the web app shows: every value from a catalog, a document or a table is escaped here."""

import html
from typing import Any

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
        approved = (f'<p class="query-hint">✔ {esc(text("query_dataset", lang))}: '
                    f"<code>{esc(r.identifier[len(SQL_PREFIX):])}</code></p>"
                    if r.identifier.startswith(SQL_PREFIX) else "")
        cards.append(
            f'<div class="dataset-card"><h4>{esc(r.title)}</h4>'
            f"<p>{esc(r.publisher or '-')} · {esc(r.access_level)} · {esc(', '.join(r.formats) or '-')} · "
            f"{esc(text('updated', lang))} {esc(r.modified or '-')}</p>"
            f"<p>{esc(r.description[:300])}</p>{link(r.url)}{approved}</div>"
        )
    return "\n".join(cards)


def answer_markdown(answer: Any) -> str:
    """The answer, then each citation as an expandable quote with its source (a "not found" answer names
    the closest sources in its own text)."""
    parts = [esc(answer.answer)]
    for c in answer.citations:
        where = " ".join(p for p in (c.title, c.article or c.heading_path) if p)
        parts.append(f"<details><summary>[{c.n}] {esc(where)}</summary>\n\n> {esc(c.quote)}\n\n"
                     f"{link(c.source)}</details>")
    return "\n\n".join(parts)


def datasets_markdown(results: list[Any], lang: str) -> str:
    if not results:
        return esc(text("no_datasets", lang))
    lines = [esc(text("datasets_found", lang))]
    for n, r in enumerate(results, 1):
        lines.append(f"{n}. **{esc(r.title)}** — {esc(r.publisher or '-')} · {esc(r.access_level)} · "
                     f"{esc(', '.join(r.formats) or '-')} {link(r.url)}")
    return "\n".join(lines)


def table_markdown(columns: list[str], rows: list[list[Any]], limit: int = 10) -> str:
    def cell(value: Any) -> str:
        return esc("" if value is None else value).replace("|", "\\|").replace("\n", " ")

    head = "| " + " | ".join(cell(c) for c in columns) + " |"
    rule = "|" + "---|" * len(columns)
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows[:limit]]
    return "\n".join([head, rule, *body])


def sql_markdown(answer: Any, lang: str) -> str:
    """A SQL answer in the chat: the SQL, the explanation, the first rows, the dataset versions."""
    if answer.error:
        return f"{esc(text('error', lang))}: {esc(answer.error)}"
    versions = ", ".join(f"{k}@{v}" for k, v in answer.dataset_versions.items())
    parts = [uncertainty_markdown(answer, lang), f"```sql\n{answer.sql}\n```", esc(answer.explanation),
             table_markdown(answer.columns, answer.rows),
             f"{esc(text('rows', lang, n=answer.row_count))} · {esc(text('datasets_used', lang))}: {esc(versions)}",
             esc(text("sql_more", lang))]
    return "\n\n".join(p for p in parts if p)


def uncertainty_markdown(answer: Any, lang: str) -> str:
    """When the SQL candidates disagreed: how much, and the other readings with their SQL and row counts; and
    when an empty result is about data the role may not use, that note."""
    lines = [f"**{esc(text('withheld', lang))}**"] if getattr(answer, "notice", None) else []
    if not getattr(answer, "uncertain", False):
        return "\n\n".join(lines)
    lines.append(f"**{esc(text('uncertain', lang, pct=round(100 * (answer.confidence or 0))))}**")
    for alternative in answer.alternatives[:3]:
        label = text("alternative", lang, votes=alternative["votes"], rows=alternative["row_count"])
        lines.append(f"{esc(label)}:\n```sql\n{alternative['sql']}\n```")
    return "\n\n".join(lines)


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
