"""Use cases of the resource register: entries with quality scores, grading suggestions and decisions, and
the passages held for review."""

import dataclasses
from datetime import date
from typing import TYPE_CHECKING, Any

from core.errors import FieldError, NotFound
from vectorstore.store import DATASETS, PASSAGES

if TYPE_CHECKING:
    from assistant.register.entries import Entry, RegisterFilter
    from assistant.register.grading import Suggestion
    from assistant.register.held import HeldPassage

from assistant.usecases.desk import Desk, _entry


class RegisterUseCases(Desk):

    @_entry("register.read")
    def register_entries(self, *, role: str, user: str | None = None, where: "RegisterFilter | None" = None,
                         today: date | None = None) -> list["Entry"]:
        """The public data resource register (`register.read`): every catalog record and approved table with its
        quality score and reasons, lowest score first; leaves a receipt."""
        return self._visible(role, self._register(role, user, where, today))

    def _register(self, role: str, user: str | None, where: "RegisterFilter | None",
                  today: date | None) -> list["Entry"]:
        from assistant.register.entries import RegisterFilter, build, from_record, from_table

        wanted = where or RegisterFilter()
        with self._receipt("register.read", role, user, question=_describe(wanted), route="register") as receipt:
            self.role(role).require("register.read")
            records = [from_record(item_id, payload) for item_id, _, _, payload in
                       self.store.contents.all_rows(DATASETS)]
            tables = [from_table(t) for t in self.sql.approved.tables()]
            entries = [e for e in build([*records, *tables], today) if wanted.keeps(e)]
            entries.sort(key=lambda e: (e.quality.score, e.resource.kind, e.resource.id))
            receipt.row_count = len(entries)
        return entries

    @_entry("register.read")
    def register_entry(self, entry_id: str, *, role: str, user: str | None = None,
                       today: date | None = None) -> "Entry":
        """One register entry by id (a catalog identifier or an approved table name)."""
        from assistant.register.entries import RegisterFilter

        found = [e for e in self._register(role, user, RegisterFilter(), today) if e.resource.id == entry_id]
        if not found:
            raise NotFound("id", "no register entry has this id", entry_id)
        return self._visible(role, found[0])

    @_entry("register.read")
    def register_grade(self, name: str, *, role: str, user: str | None = None) -> list["Suggestion"]:
        """Classification and grading suggestions for one approved table or catalog record, with evidence and
        the status of any earlier decision (`register.grade`); leaves a `register.read` receipt."""
        with self._receipt("register.read", role, user, question=f"grade {name}", route="register") as receipt:
            self.role(role).require("register.grade")
            suggestions, versions = self._suggestions(name)
            receipt.datasets, receipt.row_count = versions, len(suggestions)
        return self._visible(role, suggestions)

    @_entry("register.grade")
    def register_decide(self, name: str, suggestion_id: str, *, accept: bool, role: str,
                        user: str | None = None) -> "Suggestion":
        """Accept or reject one suggestion (`register.grade`). An accepted one applies to the role policy at once:
        the registry and the store read the decision from now on. Leaves a `register.grade` receipt."""
        from assistant.register.grading import decisions_of, restrict_record

        status = "accepted" if accept else "rejected"
        with self._receipt("register.grade", role, user, question=f"{status} {suggestion_id} for {name}",
                           route="register") as receipt:
            self.role(role).require("register.grade")
            suggestions, versions = self._suggestions(name)
            chosen = next((s for s in suggestions if s.id == suggestion_id), None)
            if chosen is None:
                raise FieldError("suggestion", f"no suggestion with this id for {name}", suggestion_id)
            decisions_of(self.settings).record(chosen, status, receipt.user, role)
            if accept and chosen.kind == "record_level":
                restrict_record(self.store, chosen.target, chosen.suggested)
            receipt.datasets = versions
            receipt.outcome = f"{status}: {chosen.kind} {chosen.target} -> {chosen.suggested}"
        return self._visible(role, dataclasses.replace(chosen, status=status))

    @_entry("register.read")
    def held_passages(self, *, role: str, user: str | None = None, status: str | None = None) -> list["HeldPassage"]:
        """Passages held at ingest for instruction-like text, with their source, the rule that held each and its
        text, those waiting for review first (`register.review`); leaves a `register.read` receipt."""
        from assistant.register.held import STATUSES, held_passages

        with self._receipt("register.read", role, user, question=f"held passages {status or 'all'}",
                           route="register") as receipt:
            self.role(role).require("register.review")
            if status is not None and status not in STATUSES:
                raise FieldError("status", f"expected one of: {', '.join(STATUSES)}", status)
            found = [p for p in held_passages(self.store.contents.flagged(PASSAGES, "held"), self._decided())
                     if status is None or p.status == status]
            receipt.chunk_ids, receipt.row_count = [p.id for p in found], len(found)
            receipt.sources = sorted({p.source for p in found})
        return self._visible(role, found)

    @_entry("register.review")
    def review_held(self, passage_id: str, *, release: bool, role: str, user: str | None = None) -> "HeldPassage":
        """A steward's decision on one held passage (`register.review`): released, searches and answers include
        it again from the next question; kept, it stays held. Leaves a `register.review` receipt."""
        from assistant.register.grading import decisions_of
        from assistant.register.held import held_passage, record_review

        verb = "release" if release else "keep"
        with self._receipt("register.review", role, user, question=f"{verb} held passage {passage_id}",
                           route="register") as receipt:
            self.role(role).require("register.review")
            stored = self.store.contents.get(PASSAGES, [passage_id]).get(passage_id)
            if stored is None or not stored[1].get("held"):
                raise FieldError("passage", "no held passage has this id", passage_id)
            passage = held_passage(passage_id, stored[0], stored[1], self._decided())
            decided = record_review(decisions_of(self.settings), passage, release, receipt.user, role)
            receipt.chunk_ids, receipt.sources = [passage.id], [passage.source]
            receipt.outcome = f"{decided.status}: held passage {passage.id} ({passage.rule})"
        return self._visible(role, decided)

    def _decided(self) -> dict[str, str]:
        from assistant.register.grading import decisions_of

        return decisions_of(self.settings).statuses()

    def _suggestions(self, name: str) -> tuple[list["Suggestion"], dict[str, str]]:
        from assistant.register.grading import decisions_of, suggest_for_record, suggest_for_table

        decided = decisions_of(self.settings).statuses()
        # against the tables as registered, so an accepted suggestion still shows, with its status
        stored = self.sql.approved.stored_tables()
        table = next((t for t in stored if t.name == name), None)
        if table is not None:
            self.sql.local_copy(stored)
            return suggest_for_table(table, self.sql.approved.database, decided), {table.name: table.version}
        found = self.store.contents.get(DATASETS, [name])
        if name in found:
            payload = found[name][1]
            return suggest_for_record(name, payload, decided), {name: str(payload.get("modified", ""))}
        raise FieldError("target", "no approved table or catalog record has this name", name)


def _describe(where: Any) -> str:
    """A register filter as the receipt's question: only the fields that were set."""
    return " ".join(f"{k}={v}" for k, v in dataclasses.asdict(where).items() if v is not None) or "all"
