"""Use cases of sharing and authorised operation (issue 33): organisations, grants and requests for access.

A steward (`grants.manage`) registers organisations, creates, amends, suspends, resumes and revokes grants, and
approves (possibly narrowing) or rejects requests; every change is checked before anything is stored (the
organisation, the dataset, the columns, the predicate — parsed, then run once on the approved table — and the
term) and leaves a receipt. A member of an organisation asks for access and sees its organisation's grants and
requests. What a grant opens is decided at each call from the file (assistant/usecases/desk.py `_grants`).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from assistant.policy.grants import (
    ORG_KINDS,
    SCOPES,
    SQL_PREFIX,
    Book,
    Grant,
    GrantRequest,
    Organisation,
    changed,
    column_list,
    day,
    now_utc,
    org_name,
    term,
    text_field,
    today_utc,
    with_grant,
    with_organisation,
    with_request,
)
from assistant.sql.predicates import both
from assistant.usecases.desk import Desk, _entry
from core.errors import FieldError, GovDataError, NotFound
from vectorstore.store import DATASETS

ARGUMENT_NAMES = {"from": "start", "dataset_id": "dataset"}  # fields named after the CLI's flags and argument
MAX_PENDING_REQUESTS = 20  # per organisation: one member cannot bury the steward's queue or grow the file


@contextmanager
def argument_names(**more: str) -> Iterator[None]:
    """For the REST API and MCP: bad input named by the argument the caller sent (`start`, not the CLI's `--from`;
    `more` renames others for one call, e.g. org="name")."""
    names = ARGUMENT_NAMES | more
    try:
        yield
    except FieldError as exc:
        if exc.field not in names:
            raise
        raise type(exc)(names[exc.field], exc.problem, exc.value) from None


class GrantUseCases(Desk):

    # ---- organisations ----

    @_entry("grants.manage")
    def add_organisation(self, name: str, *, kind: str, contact: str, title: str | None = None, role: str,
                         user: str | None = None) -> dict[str, Any]:
        """Register a department or an operator, with the contact who answers for its grants (`grants.manage`)."""
        with self._receipt("grants.manage", role, user, question=f"add organisation {name}") as receipt:
            self.role(role).require("grants.manage")
            if kind not in ORG_KINDS:
                raise FieldError("kind", f"expected one of: {', '.join(ORG_KINDS)}", kind)
            org = Organisation(org_name(name), kind, text_field(contact, "contact"),
                               text_field(title, "title", required=False), now_utc(), receipt.user)
            self.grant_file.change(lambda book: with_organisation(book, org))
            receipt.outcome = f"added: organisation {org.name} ({kind})"
        return _organisation(org)

    @_entry("grants.read")
    def organisations(self, *, role: str, user: str | None = None) -> list[dict[str, Any]]:
        """Every organisation, with how many of its users' grants are active today (`grants.manage`)."""
        with self._receipt("grants.read", role, user, question="organisations") as receipt:
            self.role(role).require("grants.manage")
            book, today = self.grant_file.book(), today_utc()
            found = [_organisation(o) | {"active_grants": sum(g.org == o.name and g.state(today) == "active"
                                                              for g in book.grants.values())}
                     for o in book.organisations.values()]
            receipt.row_count = len(found)
        return self._visible(role, found)

    # ---- grants ----

    @_entry("grants.manage")
    def create_grant(self, organisation: str, dataset_id: str | None = None, *, theme: str | None = None,
                     publisher: str | None = None, purpose: str, until: str, start: str | None = None,
                     columns: str | None = None, rows: str | None = None, raw: bool = False,
                     contact: str | None = None, role: str, user: str | None = None) -> dict[str, Any]:
        """A grant to ORGANISATION over one dataset (an approved table or a catalog record), a theme or a publisher,
        checked in full before it is stored (`grants.manage`); returns it, with its id."""
        with self._receipt("grants.manage", role, user, question=f"create grant for {organisation}") as receipt:
            self.role(role).require("grants.manage")
            book = self.grant_file.book()
            org = book.organisation(organisation.strip().lower(), "organisation")
            grant = self._checked(Grant(
                "", org.name, *self._scope(dataset_id, theme, publisher), text_field(purpose, "purpose"), "", "",
                text_field(contact, "contact", required=False) or org.contact, column_list(columns), raw,
                (rows or "").strip(), created=now_utc(), created_by=receipt.user), start, until)
            stored = self._store_new(grant)
            receipt.grants, receipt.outcome = [stored.id], f"created: {_line(stored)}"
        return stored.public(today_utc())

    @_entry("grants.read")
    def grants(self, *, role: str, user: str | None = None, org: str | None = None,
               state: str | None = None) -> list[dict[str, Any]]:
        """Grants, newest first: every one for a steward, the caller's organisation's otherwise; filtered by
        organisation and by state today (active, not started, expired, suspended, revoked)."""
        with self._receipt("grants.read", role, user, question=f"list org={org} state={state}") as receipt:
            today = today_utc()
            found = [g.public(today) for g in reversed(list(self._readable(role, user)))
                     if (org is None or g.org == org) and (state is None or g.state(today) == state)]
            receipt.row_count = len(found)
        return self._visible(role, found)

    @_entry("grants.read")
    def grant(self, grant_id: str, *, role: str, user: str | None = None) -> dict[str, Any]:
        """One grant with its history: any for a steward, one of the caller's organisation's otherwise (another
        organisation's is not found, like an id that does not exist)."""
        with self._receipt("grants.read", role, user, question=f"show {grant_id}") as receipt:
            found = next((g for g in self._readable(role, user) if g.id == grant_id), None)
            if found is None:
                raise NotFound("id", "no grant has this id", grant_id)
            receipt.grants = [found.id]
        return self._visible(role, found.public(today_utc()))

    @_entry("grants.manage")
    def revoke_grant(self, grant_id: str, *, reason: str | None = None, role: str,
                     user: str | None = None) -> dict[str, Any]:
        """End a grant for good (`grants.manage`): its next use is refused; a revoked grant is never resumed."""
        return self._set_status(grant_id, "revoked", reason, role, user)

    @_entry("grants.manage")
    def suspend_grant(self, grant_id: str, *, reason: str | None = None, role: str,
                      user: str | None = None) -> dict[str, Any]:
        """Stop a grant until it is resumed (`grants.manage`): its next use is refused."""
        return self._set_status(grant_id, "suspended", reason, role, user)

    @_entry("grants.manage")
    def resume_grant(self, grant_id: str, *, reason: str | None = None, role: str,
                     user: str | None = None) -> dict[str, Any]:
        """Resume a suspended grant (`grants.manage`); it opens again inside its term."""
        return self._set_status(grant_id, "active", reason, role, user)

    @_entry("grants.manage")
    def amend_grant(self, grant_id: str, *, until: str | None = None, start: str | None = None,
                    columns: str | None = None, rows: str | None = None, raw: bool | None = None,
                    purpose: str | None = None, contact: str | None = None, role: str,
                    user: str | None = None) -> dict[str, Any]:
        """A new version of a grant's term, columns, rows, purpose or contact, checked like a new grant; the old
        version stays in its history (`grants.manage`)."""
        with self._receipt("grants.manage", role, user, question=f"amend {grant_id}") as receipt:
            self.role(role).require("grants.manage")
            current = self.grant_file.book().grant(grant_id)
            if current.status == "revoked":
                raise FieldError("id", "a revoked grant cannot change", grant_id)
            proposed = replace(current, columns=column_list(columns) if columns is not None else current.columns,
                               rows=rows.strip() if rows is not None else current.rows,
                               raw=current.raw if raw is None else raw,
                               purpose=text_field(purpose, "purpose") if purpose is not None else current.purpose,
                               contact=text_field(contact, "contact") if contact is not None else current.contact)
            checked = self._checked(proposed, start or current.start, until or current.until,
                                    keep_start=start is None)
            note = ", ".join(name for name in ("start", "until", "columns", "rows", "raw", "purpose", "contact")
                             if getattr(checked, name) != getattr(current, name)) or "nothing"
            stored = self._store_change(grant_id, receipt.user, f"amended: {note}",
                                        {name: getattr(checked, name) for name in
                                         ("start", "until", "columns", "rows", "raw", "purpose", "contact")})
            receipt.grants, receipt.outcome = [grant_id], f"amended: {grant_id} ({note})"
        return stored.public(today_utc())

    # ---- requests ----

    @_entry("grants.request")
    def request_grant(self, dataset_id: str, *, purpose: str, until: str, start: str | None = None,
                      columns: str | None = None, rows: str | None = None, raw: bool = False, role: str,
                      user: str | None = None) -> dict[str, Any]:
        """Ask for access to one dataset for the caller's organisation; a steward decides (the request's id)."""
        with self._receipt("grants.request", role, user, question=f"request {dataset_id}") as receipt:
            org = self.organisation(user)
            if not org:
                raise FieldError("user", "you belong to no organisation; a steward adds you to one "
                                         "(users add with an organisation)", receipt.user)
            book = self.grant_file.book()
            draft = self._checked(Grant("", book.organisation(org).name, *self._scope(dataset_id, None, None),
                                        text_field(purpose, "purpose"), "", "", "", column_list(columns), raw,
                                        (rows or "").strip()), start, until, run=False)
            made: list[GrantRequest] = []

            def add(current: Book) -> Book:
                waiting = sum(r.org == org and r.status == "pending" for r in current.requests.values())
                if waiting >= MAX_PENDING_REQUESTS:
                    raise GovDataError(f"{org} has {waiting} requests waiting for a steward; ask again when some "
                                       "are decided")
                made.append(GrantRequest(current.next_id("r"), org, receipt.user, draft.scope, draft.target,
                                         draft.purpose, draft.start, draft.until, draft.columns, draft.raw,
                                         draft.rows, created=now_utc()))
                return with_request(current, made[0])

            self.grant_file.change(add)
            receipt.outcome = f"requested: {made[0].id} {draft.scope} {draft.target} until {draft.until}"
        return made[0].public()

    @_entry("grants.read")
    def requests(self, *, role: str, user: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        """Requests, oldest first: every one for a steward (the queue: `status` pending), the caller's
        organisation's otherwise, with each decision and its reason."""
        with self._receipt("grants.read", role, user, question=f"requests status={status}") as receipt:
            book = self.grant_file.book()
            steward = self.allowed(role, "grants.manage")
            org = "" if steward else self.organisation(user)
            found = [r.public() for r in book.requests.values()
                     if (steward or (org and r.org == org)) and (status is None or r.status == status)]
            receipt.row_count = len(found)
        return self._visible(role, found)

    @_entry("grants.manage")
    def approve_request(self, request_id: str, *, until: str | None = None, start: str | None = None,
                        columns: str | None = None, rows: str | None = None, contact: str | None = None,
                        note: str | None = None, role: str, user: str | None = None) -> dict[str, Any]:
        """Approve a pending request as a grant (`grants.manage`), possibly narrowed: fewer columns, a shorter term,
        and rows the request's predicate and the steward's both select. Returns the grant."""
        with self._receipt("grants.manage", role, user, question=f"approve {request_id}") as receipt:
            self.role(role).require("grants.manage")
            book = self.grant_file.book()
            asked = _pending(book, request_id)
            org = book.organisation(asked.org)
            narrowed = column_list(columns) if columns is not None else asked.columns
            if asked.columns and not {c.lower() for c in narrowed} <= {c.lower() for c in asked.columns}:
                raise FieldError("columns", f"an approval may only narrow the columns asked for "
                                            f"({', '.join(asked.columns)})")
            extra = (rows or "").strip()
            joined = both(asked.rows, extra) if asked.rows and extra else asked.rows or extra
            last = day(until, "until").isoformat() if until else asked.until
            if last > asked.until:
                raise FieldError("until", f"an approval may only shorten the term asked for (until {asked.until})",
                                 until)
            first = max(day(start, "from").isoformat() if start else asked.start, asked.start)
            if start is None and first > last:  # the steward's shorter term ends before the asked start
                raise FieldError("until", f"the term ends before it starts ({first})", until)
            grant = self._checked(Grant("", org.name, asked.scope, asked.target, asked.purpose, "", "",
                                        text_field(contact, "contact", required=False) or org.contact, narrowed,
                                        asked.raw, joined, created=now_utc(), created_by=receipt.user,
                                        request=asked.id), first, last)
            stored = self._store_new(grant, decided=(asked.id, text_field(note, "note", required=False)))
            receipt.grants, receipt.outcome = [stored.id], f"approved: {asked.id} as {_line(stored)}"
        return stored.public(today_utc())

    @_entry("grants.manage")
    def reject_request(self, request_id: str, *, reason: str, role: str, user: str | None = None) -> dict[str, Any]:
        """Reject a pending request with a reason its requester sees (`grants.manage`)."""
        with self._receipt("grants.manage", role, user, question=f"reject {request_id}") as receipt:
            self.role(role).require("grants.manage")
            why = text_field(reason, "reason")
            done: list[GrantRequest] = []

            def reject(book: Book) -> Book:
                done.append(replace(_pending(book, request_id), status="rejected", decided=now_utc(),
                                    decided_by=receipt.user, reason=why))
                return with_request(book, done[0])

            self.grant_file.change(reject)
            receipt.outcome = f"rejected: {request_id} ({why})"
        return done[0].public()

    # ---- the checks every grant passes before it is stored ----

    def _scope(self, dataset_id: str | None, theme: str | None, publisher: str | None) -> tuple[str, str]:
        """(scope, target) with the target as the registry or the catalog spells it; one of the three, known."""
        given = [(kind, value.strip()) for kind, value in zip(SCOPES, (dataset_id, theme, publisher), strict=True)
                 if value is not None and value.strip()]
        if len(given) != 1:
            raise FieldError("dataset_id", "name exactly one of: a dataset, a theme or a publisher")
        kind, value = given[0]
        tables = self.sql.approved.tables()
        if kind == "dataset":
            name = value.removeprefix(SQL_PREFIX).lower()
            table = next((t for t in tables if t.name == name), None)
            if table is not None:
                return kind, table.name
            if value in self.store.contents.get(DATASETS, [value]):
                return kind, value
            raise FieldError("dataset_id", "no approved table or catalog record has this id", value)
        field_of = "themes" if kind == "theme" else "publisher"
        for table in tables:
            for known in (table.themes if kind == "theme" else [table.publisher]):
                if known and known.casefold() == value.casefold():
                    return kind, known
        for record in self.store.contents.payloads(DATASETS):
            stored = record.get(field_of) or ([] if kind == "theme" else "")
            for named in (stored if kind == "theme" else [stored]):
                if named and str(named).casefold() == value.casefold():
                    return kind, str(named)
        raise FieldError(kind, f"no approved table or catalog record has this {kind}", value)

    def _checked(self, grant: Grant, start: str | None, until: str | None, *, run: bool = True,
                 keep_start: bool = False) -> Grant:
        """The grant with its term, columns and predicate checked (and spelt as the table spells them)."""
        today = today_utc()
        if keep_start:  # an amendment that leaves a term's start alone may keep a start in the past
            first, last = term(None, until, today)
            first = start or first
            if first > last:
                raise FieldError("until", f"the term ends before it starts ({first})", until)
        else:
            first, last = term(start, until, today)
        grant = replace(grant, start=first, until=last)
        table = next((t for t in self.sql.approved.tables() if grant.scope == "dataset" and t.name == grant.target),
                     None)
        if table is None:
            if grant.columns or grant.rows or grant.raw:
                raise FieldError("columns" if grant.columns else "rows" if grant.rows else "raw",
                                 "columns, rows and raw values can be granted over one approved table only")
            return grant
        if run:  # a request (not run) is not checked against the columns: their names are not the requester's
            names = {c.name.lower(): c.name for c in table.columns}
            unknown = [c for c in grant.columns if c.lower() not in names]
            if unknown:
                raise FieldError("columns", f"the table {table.name} has no column {unknown[0]!r}; its columns: "
                                            f"{', '.join(names.values())}")
            grant = replace(grant, columns=tuple(dict.fromkeys(names[c.lower()] for c in grant.columns)))
        if grant.rows:
            grant = replace(grant, rows=self.sql.checked_rows(table.name, grant.rows, run=run))
        return grant

    def _store_new(self, grant: Grant, decided: tuple[str, str] | None = None) -> Grant:
        made: list[Grant] = []

        def add(book: Book) -> Book:
            made.append(replace(grant, id=book.next_id("g")))
            book = with_grant(book, made[0])
            if decided is not None:
                request_id, note = decided
                asked = _pending(book, request_id)
                book = with_request(book, replace(asked, status="approved", decided=now_utc(),
                                                  decided_by=grant.created_by, reason=note, grant=made[0].id))
            return book

        self.grant_file.change(add)
        return made[0]

    def _store_change(self, grant_id: str, by: str, note: str, values: dict[str, Any]) -> Grant:
        done: list[Grant] = []

        def change(book: Book) -> Book:
            done.append(changed(book.grant(grant_id), by, note, **values))
            return with_grant(book, done[0])

        self.grant_file.change(change)
        return done[0]

    def _set_status(self, grant_id: str, status: str, reason: str | None, role: str,
                    user: str | None) -> dict[str, Any]:
        verb = {"revoked": "revoke", "suspended": "suspend", "active": "resume"}[status]
        with self._receipt("grants.manage", role, user, question=f"{verb} {grant_id}") as receipt:
            self.role(role).require("grants.manage")
            current = self.grant_file.book().grant(grant_id)
            if current.status == "revoked":
                raise FieldError("id", "the grant is revoked; a revoked grant never opens again", grant_id)
            if status == "active" and current.status != "suspended":
                raise FieldError("id", "only a suspended grant can be resumed", grant_id)
            why = text_field(reason, "reason", required=False)
            stored = current if current.status == status else self._store_change(
                grant_id, receipt.user, f"{status}" + (f": {why}" if why else ""), {"status": status, "reason": why})
            receipt.grants, receipt.outcome = [grant_id], f"{status}: {grant_id}" + (f" ({why})" if why else "")
        return stored.public(today_utc())

    def _readable(self, role: str, user: str | None) -> list[Grant]:
        """The grants this caller may read: all for a steward, their organisation's otherwise."""
        grants = list(self.grant_file.book().grants.values())
        if self.allowed(role, "grants.manage"):
            return grants
        org = self.organisation(user)
        return [g for g in grants if org and g.org == org]


def _pending(book: Book, request_id: str) -> GrantRequest:
    asked = book.request(request_id)
    if asked.status != "pending":
        raise FieldError("id", f"the request is {asked.status} already", request_id)
    return asked


def _organisation(org: Organisation) -> dict[str, Any]:
    return {"name": org.name, "kind": org.kind, "title": org.title, "contact": org.contact, "created": org.created}


def _line(grant: Grant) -> str:
    return f"{grant.id} {grant.org} {grant.scope} {grant.target} {grant.start}..{grant.until}"
