"""A user-supplied model file must match its configured sha256 before it is loaded."""

import hashlib
from pathlib import Path

import pytest

from assistant.errors import GovDataError
from assistant.llm.model_file import check_model_file


def test_model_file_hash_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"GGUF fixture bytes")
    good = hashlib.sha256(b"GGUF fixture bytes").hexdigest()
    assert check_model_file(path, good.upper()) == path
    assert check_model_file(path, None) == path
    with pytest.raises(GovDataError, match="sha256 does not match"):
        check_model_file(path, "0" * 64)
    with pytest.raises(GovDataError, match="no such file"):
        check_model_file(tmp_path / "missing.gguf", good)
