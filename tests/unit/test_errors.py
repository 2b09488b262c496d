"""One line per failure: the helper every layer uses to quote a library's exception."""

from core.errors import first_line


def test_the_first_line_is_kept_and_capped() -> None:
    assert first_line(ValueError("bad value\n  at line 3\n  traceback...")) == "bad value"
    assert first_line(ValueError("x" * 1000)) == "x" * 400
    assert first_line(ValueError("x" * 1000), 200) == "x" * 200


def test_an_exception_without_a_message_is_named_by_its_type() -> None:
    assert first_line(RuntimeError()) == "RuntimeError"
    assert first_line(OSError("  \n ")) == "OSError"
