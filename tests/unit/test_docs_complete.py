"""Docs completeness: every CLI command and every setting is documented."""

from pathlib import Path

import typer
from pydantic import BaseModel

from assistant.cli import app
from core.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _commands(group: object, prefix: str) -> list[str]:
    found = []
    for name, command in getattr(group, "commands", {}).items():
        path = f"{prefix} {name}"
        sub = _commands(command, path)
        found.extend(sub or [path])
    return found


def _setting_variables(model: type[BaseModel], prefix: str) -> list[str]:
    names = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names.extend(_setting_variables(annotation, f"{prefix}{name.upper()}__"))
        else:
            names.append(f"{prefix}{name.upper()}")
    return names


def test_every_cli_command_has_a_section_in_cli_md() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    commands = _commands(typer.main.get_command(app), "govdata")
    assert "govdata ingest" in commands and "govdata docs search" in commands
    missing = [c for c in commands if f"## {c}\n" not in text]
    assert missing == []


def test_every_setting_is_in_configuration_md() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    variables = _setting_variables(Settings, "GOVDATA_")
    assert "GOVDATA_EMBEDDING__MODEL" in variables
    missing = [v for v in variables if f"`{v}`" not in text]
    assert missing == []
