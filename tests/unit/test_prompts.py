from pathlib import Path

import pytest

from prompts import load_prompt


def test_render_checks_inputs(tmp_path: Path) -> None:
    (tmp_path / "hello.txt").write_text("# inputs: name\nHello {name}, {{literal}}.", encoding="utf-8")
    prompt = load_prompt("hello", tmp_path)
    assert prompt.render(name="数据") == "Hello 数据, {literal}."
    with pytest.raises(ValueError, match="needs inputs"):
        prompt.render()
    with pytest.raises(ValueError, match="needs inputs"):
        prompt.render(name="a", extra="b")


def test_template_must_declare_what_it_uses(tmp_path: Path) -> None:
    (tmp_path / "bad.txt").write_text("# inputs: a\n{a} {b}", encoding="utf-8")
    with pytest.raises(ValueError, match="declares"):
        load_prompt("bad", tmp_path)
    (tmp_path / "nohead.txt").write_text("{a}", encoding="utf-8")
    with pytest.raises(ValueError, match="must start"):
        load_prompt("nohead", tmp_path)
