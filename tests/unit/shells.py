"""A small home for the shell tests (REST API, MCP): the DOL catalog slice (public, restricted public and non-public
records) and one guide ingested with hashed-word vectors (no model), two public approved tables (permits with
sensitive columns; applicants whose ID numbers are personal data), and a token per role."""

from dataclasses import dataclass
from pathlib import Path

from assistant.services import Services
from core.settings import Settings
from tests.unit.test_held import HashEmbeddings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
STEWARD = "data_steward"


@dataclass
class ShellHome:
    services: Services
    tokens: dict[str, str]  # role (or "revoked") -> secret

    def bearer(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def shell_home(folder: Path, **settings: object) -> ShellHome:
    svc = Services(Settings(home=folder / "home", user="tester", **settings))  # type: ignore[arg-type]
    svc._embeddings = HashEmbeddings()  # type: ignore[assignment]
    svc.ingest([FIXTURES / "catalogs" / "dol_slice.data.json", FIXTURES / "docs" / "increasing-digital-takeup.md"])
    sql = FIXTURES / "sql"
    svc.add_tables(sql / "permits.csv", describe=sql / "permits.describe.json", access_level="public", role=STEWARD)
    svc.add_tables(FIXTURES / "register" / "applicants.csv", access_level="public", role=STEWARD)
    tokens = {role: svc.create_token(role.replace("_", "-"), role, role=STEWARD)[1]
              for role in ("citizen", "civil_servant", STEWARD)}
    tokens["revoked"] = svc.create_token("old", STEWARD, role=STEWARD)[1]
    svc.revoke_token("old", role=STEWARD)
    return ShellHome(svc, tokens)
