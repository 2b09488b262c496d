"""The core names fields, never command-line flags: a message from assistant/, ingest/ or vectorstore/ reaches the
web app and other programs too, where `--since` means nothing. The command-line shell (assistant/cli/) turns
fields into flags."""

import ast
import re
from pathlib import Path

import pytest

from assistant.cli.common import error_text
from core.errors import FieldError

ROOT = Path(__file__).resolve().parents[2]
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]*")
SHELL = ROOT / "assistant" / "cli"


def core_modules() -> list[Path]:
    files = [p for folder in ("assistant", "ingest", "vectorstore") for p in (ROOT / folder).rglob("*.py")]
    return sorted(p for p in files if SHELL not in p.parents)


def flags_in_error_messages(path: Path, root: Path = ROOT) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        if not name.endswith(("Error", "Rejected", "Failed")):
            continue
        for part in ast.walk(node):
            if isinstance(part, ast.Constant) and isinstance(part.value, str) and FLAG.search(part.value):
                found.append(f"{path.relative_to(root)}:{part.lineno}: {part.value.strip()[:60]}")
    return found


def test_no_core_error_message_names_a_flag() -> None:
    assert len(core_modules()) > 40
    assert [hit for path in core_modules() for hit in flags_in_error_messages(path)] == []


def test_the_checker_finds_a_flag(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text('raise GovDataError(f"--since {value}: bad date")\nprint("--fine in a print")\n')
    assert len(flags_in_error_messages(bad, tmp_path)) == 1


@pytest.mark.parametrize(("field", "flag"), [("db", "--db"), ("access_level", "--access-level"), ("dialect", "--to"),
                                             ("expect_head", "--expect-head")])
def test_the_command_line_turns_fields_into_flags(field: str, flag: str) -> None:
    error = FieldError(field, "bad", "X")
    assert str(error) == f"{field} X: bad" and error_text(error) == f"{flag} X: bad"
