import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ["HF_HUB_OFFLINE"] = "1"

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


class Home:
    """One builder for a Services over a fresh GOVDATA_HOME (issue 30: instead of a copied fixture per file): the
    acting user, settings, and approved tables added as a steward."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tmp_path, self.monkeypatch = tmp_path, monkeypatch

    def services(self, *, user: str = "tester", tables: tuple[tuple[Path, dict[str, object]], ...] = (),
                 **settings: object) -> "Services":
        from assistant.services import Services
        from core.settings import Settings

        self.monkeypatch.setenv("GOVDATA_USER", user)
        svc = Services(Settings(home=self.tmp_path / "home", **settings))  # type: ignore[arg-type]
        for path, options in tables:
            svc.add_tables(path, role="data_steward", **options)  # type: ignore[arg-type]
        return svc


@pytest.fixture
def home_builder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    return Home(tmp_path, monkeypatch)


if TYPE_CHECKING:
    from assistant.services import Services
