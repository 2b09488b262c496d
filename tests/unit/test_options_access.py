import json
from pathlib import Path

import pytest

from assistant.policy.roles import allowed_levels
from core.access import most_restrictive, normalize_access_level
from core.errors import GovDataError, IngestError
from core.settings import Settings
from ingest.options import OptionsResolver


@pytest.mark.parametrize(
    ("raw", "level"),
    [("public", "public"), ("Public ", "public"), ("restricted public", "restricted public"),
     ("restricted-public", "restricted public"), ("non-public", "non-public"), ("Non Public", "non-public"),
     ("不公开", "non-public"), ("有條件公開", "restricted public")],
)
def test_normalize_access_level(raw: str, level: str) -> None:
    assert normalize_access_level(raw) == level


@pytest.mark.parametrize("raw", ["secret", "", "publicly", "1"])
def test_unknown_access_level_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="unknown access level"):
        normalize_access_level(raw)


def test_most_restrictive() -> None:
    assert most_restrictive("public", "non-public", None) == "non-public"
    assert most_restrictive("restricted public", "public") == "restricted public"
    assert most_restrictive(None, None) is None


def test_roles_map_to_levels_and_filter() -> None:
    assert allowed_levels("citizen") == ("public",)
    assert allowed_levels("civil_servant") == ("public", "restricted public")
    assert set(allowed_levels("data_steward")) == {"public", "restricted public", "non-public"}
    with pytest.raises(GovDataError, match="unknown role"):
        allowed_levels("admin")


def _write(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_sidecars_merge_from_root_down_and_per_file(tmp_path: Path) -> None:
    _write(tmp_path / ".govdata.json", {"access_level": "restricted public", "catalog": {"publisher": "A"}})
    _write(tmp_path / "sub" / ".govdata.json", {"catalog": {"base_url": "https://x"},
                                                "files": {"f.csv": {"access_level": "non-public"}}})
    resolver = OptionsResolver()
    options = resolver.resolve(tmp_path / "sub" / "f.csv", tmp_path)
    assert options.access_level == "non-public"
    assert options.catalog == {"publisher": "A", "base_url": "https://x"}
    other = resolver.resolve(tmp_path / "sub" / "g.csv", tmp_path)
    assert other.access_level == "restricted public"


def test_cli_level_cannot_loosen_a_folder_level(tmp_path: Path) -> None:
    _write(tmp_path / ".govdata.json", {"access_level": "non-public"})
    assert OptionsResolver("public").resolve(tmp_path / "a.md", tmp_path).access_level == "non-public"
    assert OptionsResolver("restricted public").resolve(tmp_path / "b" / "a.md", tmp_path).access_level == (
        "non-public")


def test_options_change_the_fingerprint(tmp_path: Path) -> None:
    first = OptionsResolver().resolve(tmp_path / "a.md", tmp_path).fingerprint()
    _write(tmp_path / ".govdata.json", {"access_level": "non-public"})
    assert OptionsResolver().resolve(tmp_path / "a.md", tmp_path).fingerprint() != first


@pytest.mark.parametrize(
    ("content", "reason"),
    [("{not json", "unreadable options file"), ("[1]", "JSON object"), ('{"acess_level": "public"}', "unknown option"),
     ('{"access_level": "secret"}', "unknown access level")],
)
def test_bad_sidecar_is_an_error(tmp_path: Path, content: str, reason: str) -> None:
    (tmp_path / ".govdata.json").write_text(content, encoding="utf-8")
    with pytest.raises(IngestError, match=reason):
        OptionsResolver().resolve(tmp_path / "a.md", tmp_path)


def test_settings_env_prefix_and_nesting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GOVDATA_HOME", str(tmp_path))
    monkeypatch.setenv("GOVDATA_EMBEDDING__MODEL", "all-minilm-l6-v2")
    monkeypatch.setenv("GOVDATA_CHUNK__MAX_TOKENS", "200")
    settings = Settings()
    assert settings.home == tmp_path and settings.embedding.model == "all-minilm-l6-v2"
    assert settings.chunk.max_tokens == 200
    assert settings.chroma_path == tmp_path / "chroma"
    with pytest.raises(Exception, match="frozen"):
        settings.home = Path("x")  # type: ignore[misc]
