"""A user-supplied model file must match its configured sha256 before it is loaded."""

import hashlib
from pathlib import Path

import pytest

from assistant.llm.model_file import check_model_file
from core.errors import GovDataError


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


def test_a_model_server_that_is_down_is_one_line_naming_its_url() -> None:
    import socket

    from assistant.llm.factory import build_chat_model
    from core.errors import GovDataError
    from core.settings import LlmSettings

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nobody listens there
    url = f"http://127.0.0.1:{port}/v1"
    with pytest.raises(GovDataError, match=f"model server at {url} is not reachable"):
        build_chat_model(LlmSettings(provider="openai", base_url=url), "unused")


def test_a_model_server_that_refuses_the_key_says_which_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from assistant.llm.factory import build_chat_model
    from core.errors import GovDataError
    from core.settings import LlmSettings

    class Refusing(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(401)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/v1"
        with pytest.raises(GovDataError, match="refused the API key \\(GOVDATA_LLM_API_KEY\\): HTTP 401"):
            build_chat_model(LlmSettings(provider="openai", base_url=url), "unused")
    finally:
        server.shutdown()
