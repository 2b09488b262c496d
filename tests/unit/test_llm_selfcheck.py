"""The install-time check of llama.cpp: a crash in the child is reported in one line, not raised."""

import subprocess
from pathlib import Path
from typing import Any

import pytest

from assistant.llm import selfcheck


def finished(code: int, stderr: str = "") -> Any:
    return lambda *args, **kwargs: subprocess.CompletedProcess(args, code, "", stderr)


def test_a_crash_in_the_child_is_a_failed_check_naming_the_signal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(selfcheck.subprocess, "run", finished(-11))
    assert selfcheck.check(Path("m")) == (False, "llama.cpp died of signal 11 reading a prompt on this CPU (a build "
                                                 "for another CPU?)")


def test_an_error_in_the_child_gives_its_last_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(selfcheck.subprocess, "run", finished(1, "Traceback ...\nValueError: no model\n\n"))
    assert selfcheck.check(Path("m")) == (False, "llama.cpp could not read a prompt: ValueError: no model")
    monkeypatch.setattr(selfcheck.subprocess, "run", finished(0))
    works, _ = selfcheck.check(Path("m"))
    assert works and selfcheck.main(["m"]) == 0
