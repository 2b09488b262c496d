"""Use cases of API tokens (issue 31): a steward makes, lists and revokes them (`tokens.manage`, each with a
receipt); the API and MCP shells turn a bearer token into the caller it stands for and pace each token."""

from dataclasses import dataclass
from typing import Any

from assistant.gate import Pace
from assistant.policy.tokens import MAX_TOKEN_CHARS, RateLimited, TokenStore, Unauthorized, now_utc, token_store
from assistant.policy.users import ANONYMOUS
from assistant.usecases.desk import Desk, _entry
from core.errors import FieldError, GovDataError


@dataclass(frozen=True)
class Caller:
    """Who a request acts as: the token's name (or `anonymous`), its role, and the user its receipts name
    (`token:NAME`, so the log and the disclosure report can tell tokens apart)."""

    name: str
    role: str
    user: str

    @classmethod
    def of_token(cls, name: str, role: str) -> "Caller":
        return cls(name, role, ANONYMOUS if name == ANONYMOUS else f"token:{name}")


class TokenUseCases(Desk):

    @property
    def token_file(self) -> TokenStore:
        return self._once("_token_file", lambda: token_store(self.settings))

    @property
    def pace(self) -> Pace:
        return self._once("_pace", lambda: Pace(self.settings.api.requests_per_minute, self.settings.api.burst))

    @_entry("tokens.manage")
    def create_token(self, name: str, token_role: str, *, days: int | None = None, org: str | None = None,
                     role: str, user: str | None = None) -> tuple[dict[str, Any], str]:
        """A new token for `token_role` lasting `days` (GOVDATA_API__TOKEN_DAYS by default), and its secret, which
        is shown this once and stored only as a hash (`tokens.manage`). With `org` (a registered organisation) its
        calls carry that organisation's grants, decided at each call (issue 33)."""
        with self._receipt("tokens.manage", role, user, question=f"create {name} as {token_role}") as receipt:
            self.role(role).require("tokens.manage")
            self.role(token_role)  # an unknown role is refused, naming the known ones
            if days is not None and not 1 <= days <= 3650:
                raise FieldError("expires", "expected 1 to 3650 days", days)
            member = self.grant_file.book().organisation(org.strip().lower(), "org").name if org else ""
            now = now_utc()
            token, secret = self.token_file.create(name, token_role, days or self.settings.api.token_days,
                                                   receipt.user, now, org=member)
            receipt.outcome = f"created: {name} ({token_role}" + (f", {member}" if member else "") + \
                f") until {token.expires}"
        return token.public(now), secret

    @_entry("tokens.manage")
    def list_tokens(self, *, role: str, user: str | None = None) -> list[dict[str, Any]]:
        """Every token ever made, with its status (active, expired, revoked), never its hash (`tokens.manage`)."""
        with self._receipt("tokens.manage", role, user, question="list") as receipt:
            self.role(role).require("tokens.manage")
            now = now_utc()
            tokens = [t.public(now) for t in self.token_file.tokens().values()]
            receipt.row_count = len(tokens)
        return tokens

    @_entry("tokens.manage")
    def revoke_token(self, name: str, *, role: str, user: str | None = None) -> dict[str, Any]:
        """Revoke a token from its next request on (`tokens.manage`); revoking it again changes nothing."""
        with self._receipt("tokens.manage", role, user, question=f"revoke {name}") as receipt:
            self.role(role).require("tokens.manage")
            token = self.token_file.revoke(name, now_utc())
            receipt.outcome = f"revoked: {name}"
        return token.public(now_utc())

    def authenticate(self, authorization: str | None) -> Caller:
        """The caller an `Authorization: Bearer TOKEN` header stands for, or Unauthorized saying why not. Without a
        header the caller is anonymous in GOVDATA_API__ANONYMOUS_ROLE when an operator allowed that."""
        if not authorization:
            anonymous = self.settings.api.anonymous_role
            if anonymous is None:
                raise Unauthorized("no token: send the header Authorization: Bearer TOKEN")
            return Caller.of_token(ANONYMOUS, self._usable_role(anonymous, "the anonymous role"))
        scheme, _, secret = authorization.strip().partition(" ")
        secret = secret.strip()
        if scheme.lower() != "bearer" or not secret:
            raise Unauthorized("the Authorization header must be: Bearer TOKEN")
        token = self.token_file.find(secret) if len(secret) <= MAX_TOKEN_CHARS else None
        if token is None:
            raise Unauthorized("unknown token")
        status = token.status(now_utc())
        if status != "active":
            when = token.revoked if status == "revoked" else token.expires
            raise Unauthorized(f"token {token.name!r} {status} on {when[:10]}")
        return Caller.of_token(token.name, self._usable_role(token.role, f"token {token.name!r}"))

    def admit(self, caller: Caller) -> None:
        """Pace one token (GOVDATA_API__REQUESTS_PER_MINUTE, bursts of GOVDATA_API__BURST): RateLimited says when
        the next request is accepted."""
        wait = self.pace.wait(caller.name)
        if wait > 0:
            raise RateLimited(caller.name, self.settings.api.requests_per_minute, wait)

    def _usable_role(self, role: str, whose: str) -> str:
        try:
            self.role(role)
        except GovDataError:
            raise Unauthorized(f"{whose} names a role that no longer exists ({role!r})") from None
        return role
