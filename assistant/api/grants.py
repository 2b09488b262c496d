"""Sharing and authorised operation over REST (issue 33's use cases, as `govdata orgs ...` and `govdata grants ...`
do them): a member of an organisation (a user, or a token made with `--org`) asks for access and reads its
organisation's grants and requests; a data steward (`grants.manage`) registers organisations, creates, amends,
suspends, resumes and revokes grants, and decides requests. Every route is one Services call as the token's caller;
Services checks the role and leaves the receipt, so these routes add no rule of their own."""

from typing import Annotated, Any

from fastapi import Body, FastAPI

from assistant import shapes
from assistant.api.bounds import Bounds
from assistant.services import Services
from assistant.usecases.grants import argument_names

DAY = "YYYY-MM-DD"


def grant_routes(api: FastAPI, services: Services, b: Bounds, As: Any) -> None:
    """Organisations, grants and requests for access under /organisations, /grants and /grant-requests."""
    field = b.settings.input.max_field_chars

    def optional(what: str, longest: int = field) -> Any:
        return Body(embed=True, max_length=longest, description=what)

    def page(items: list[dict[str, Any]], offset: int, limit: int) -> dict[str, Any]:
        return shapes.page(shapes.window(items, offset, limit), dict)

    @api.get("/organisations", summary="Organisations that grants are given to (data stewards)", tags=["grants"])
    def organisations(caller: As, limit: Annotated[int, b.size()] = 50,
                      offset: Annotated[int, b.list_offset()] = 0) -> dict[str, Any]:
        """Every department and licensed operator, with its contact and active grants (as `govdata orgs list
        --json`)."""
        return page(services.organisations(role=caller.role, user=caller.user), offset, limit)

    @api.post("/organisations", summary="Register an organisation (data stewards)", tags=["grants"])
    def add_organisation(
        caller: As, name: Annotated[str, Body(embed=True, min_length=1, max_length=field)],
        kind: Annotated[str, Body(embed=True, max_length=field, description="department or operator")],
        contact: Annotated[str, Body(embed=True, max_length=field,
                                     description="Who answers for the use of its grants.")],
        title: Annotated[str | None, optional("Its full name.")] = None,
    ) -> dict[str, Any]:
        """A department or licensed operator (as `govdata orgs add --json`)."""
        with argument_names(org="name"):
            return services.add_organisation(name, kind=kind, contact=contact, title=title, role=caller.role,
                                             user=caller.user)

    @api.get("/grants", summary="Grants: every one for a steward, your organisation's otherwise", tags=["grants"])
    def grants(caller: As, org: Annotated[str | None, b.filter("Only this organisation's.")] = None,
               state: Annotated[str | None, b.filter("active, not started, expired, suspended or revoked "
                                                     "(today)")] = None,
               limit: Annotated[int, b.size()] = 50, offset: Annotated[int, b.list_offset()] = 0) -> dict[str, Any]:
        """Newest first, each with its scope, columns, rows, term and state today (as `govdata grants list
        --json`)."""
        return page(services.grants(role=caller.role, user=caller.user, org=org, state=state), offset, limit)

    @api.post("/grants", summary="Grant an organisation access (data stewards)", tags=["grants"])
    def create_grant(
        caller: As, organisation: Annotated[str, Body(embed=True, min_length=1, max_length=field)],
        purpose: Annotated[str, Body(embed=True, max_length=field, description="What the access is for.")],
        until: Annotated[str, Body(embed=True, max_length=32, description=f"The last day, {DAY}.")],
        dataset: Annotated[str | None, optional("An approved table's name or a catalog record's id.")] = None,
        theme: Annotated[str | None, optional("Every table and record of this theme.")] = None,
        publisher: Annotated[str | None, optional("Every table and record of this publisher.")] = None,
        start: Annotated[str | None, optional(f"The first day, {DAY} (today).", 32)] = None,
        columns: Annotated[str | None, optional("Only these columns, comma-separated.")] = None,
        rows: Annotated[str | None, optional("Only rows this SQL predicate selects.")] = None,
        raw: Annotated[bool, Body(embed=True, description="Listed sensitive columns unmasked.")] = False,
        contact: Annotated[str | None, optional("Who answers for it (the organisation's contact).")] = None,
    ) -> dict[str, Any]:
        """Checked in full before it is stored: the organisation, the dataset, the columns, the predicate (run once
        on the table) and the term (as `govdata grants create --json`)."""
        with argument_names():
            return services.create_grant(organisation, dataset, theme=theme, publisher=publisher, purpose=purpose,
                                         until=until, start=start, columns=columns, rows=rows, raw=raw, contact=contact,
                                         role=caller.role, user=caller.user)

    @api.get("/grant-requests", summary="Requests for access: the queue, or your organisation's", tags=["grants"])
    def requests(caller: As, status: Annotated[str | None, b.filter("pending, approved or rejected")] = None,
                 limit: Annotated[int, b.size()] = 50, offset: Annotated[int, b.list_offset()] = 0) -> dict[str, Any]:
        """Oldest first, each with its decision and reason (as `govdata grants requests --json`)."""
        return page(services.requests(role=caller.role, user=caller.user, status=status), offset, limit)

    @api.post("/grant-requests", summary="Ask for access for your organisation", tags=["grants"])
    def request_grant(
        caller: As, dataset: Annotated[str, Body(embed=True, min_length=1, max_length=field,
                                                 description="An approved table's name or a catalog record's id.")],
        purpose: Annotated[str, Body(embed=True, max_length=field, description="What the access is for.")],
        until: Annotated[str, Body(embed=True, max_length=32, description=f"The last day, {DAY}.")],
        start: Annotated[str | None, optional(f"The first day, {DAY} (today).", 32)] = None,
        columns: Annotated[str | None, optional("Only these columns, comma-separated.")] = None,
        rows: Annotated[str | None, optional("Only rows this SQL predicate selects.")] = None,
    ) -> dict[str, Any]:
        """A request for a steward to decide (as `govdata grants request --json`); the caller must belong to an
        organisation (a user's, or the token's `--org`)."""
        with argument_names():
            return services.request_grant(dataset, purpose=purpose, until=until, start=start, columns=columns,
                                          rows=rows, role=caller.role, user=caller.user)

    @api.post("/grant-requests/{id}/approve", summary="Approve a request, possibly narrowed (data stewards)",
              tags=["grants"])
    def approve_request(
        id: Annotated[str, b.id("The request's id, as the list gives it.")], caller: As,
        until: Annotated[str | None, optional(f"A shorter term's last day, {DAY}.", 32)] = None,
        start: Annotated[str | None, optional(f"A later first day, {DAY}.", 32)] = None,
        columns: Annotated[str | None, optional("Fewer columns than asked for.")] = None,
        rows: Annotated[str | None, optional("A predicate the rows must also meet.")] = None,
        contact: Annotated[str | None, optional("Who answers for it.")] = None,
        note: Annotated[str | None, optional("What the requester is told.")] = None,
    ) -> dict[str, Any]:
        """The grant it became (as `govdata grants approve --json`)."""
        with argument_names():
            return services.approve_request(id, until=until, start=start, columns=columns, rows=rows, contact=contact,
                                            note=note, role=caller.role, user=caller.user)

    @api.post("/grant-requests/{id}/reject", summary="Reject a request with a reason (data stewards)",
              tags=["grants"])
    def reject_request(id: Annotated[str, b.id("The request's id, as the list gives it.")], caller: As,
                       reason: Annotated[str, Body(embed=True, max_length=field,
                                                   description="Why (the requester sees it).")]) -> dict[str, Any]:
        """The request, rejected (as `govdata grants reject --json`)."""
        return services.reject_request(id, reason=reason, role=caller.role, user=caller.user)

    @api.get("/grants/{id}", summary="One grant with its history", tags=["grants"])
    def grant(id: Annotated[str, b.id("The grant's id, as the list gives it.")], caller: As) -> dict[str, Any]:
        """Any grant for a steward, one of your organisation's otherwise; another's is not found (as `govdata grants
        show --json`)."""
        return services.grant(id, role=caller.role, user=caller.user)

    @api.post("/grants/{id}/amend", summary="Change a grant's term, columns, rows, purpose or contact (data "
                                            "stewards)", tags=["grants"])
    def amend_grant(
        id: Annotated[str, b.id("The grant's id, as the list gives it.")], caller: As,
        until: Annotated[str | None, optional(f"A new last day, {DAY}.", 32)] = None,
        start: Annotated[str | None, optional(f"A new first day, {DAY}.", 32)] = None,
        columns: Annotated[str | None, optional("The columns, comma-separated.")] = None,
        rows: Annotated[str | None, optional("The rows' SQL predicate.")] = None,
        purpose: Annotated[str | None, optional("A new purpose.")] = None,
        contact: Annotated[str | None, optional("A new contact.")] = None,
    ) -> dict[str, Any]:
        """A new version, checked like a new grant; the old one stays in its history (as `govdata grants amend
        --json`)."""
        with argument_names():
            return services.amend_grant(id, until=until, start=start, columns=columns, rows=rows, purpose=purpose,
                                        contact=contact, role=caller.role, user=caller.user)

    for action, verb, what in (("revoke", services.revoke_grant, "End a grant for good"),
                               ("suspend", services.suspend_grant, "Stop a grant until it is resumed"),
                               ("resume", services.resume_grant, "Resume a suspended grant")):
        _status_route(api, b, As, action, verb, what)


def _status_route(api: FastAPI, b: Bounds, As: Any, action: str, change: Any, what: str) -> None:
    """POST /grants/{id}/ACTION: a grant's status changed with a reason; its next use sees it."""

    def route(id: Annotated[str, b.id("The grant's id, as the list gives it.")], caller: As,
              reason: Annotated[str | None, Body(embed=True, max_length=b.settings.input.max_field_chars,
                                                 description="Why (kept in the grant's history).")] = None,
              ) -> dict[str, Any]:
        return dict(change(id, reason=reason, role=caller.role, user=caller.user))

    route.__doc__ = f"{what} (as `govdata grants {action} --json`); the next call made under it sees the change."
    api.post(f"/grants/{{id}}/{action}", summary=f"{what} (data stewards)", tags=["grants"],
             operation_id=f"grants_{action}")(route)
