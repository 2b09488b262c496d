"""The model-server client: a server that is down, slow, refusing or sending an unreadable reply in the middle of
a question is one error line naming its URL, never a traceback in the page. Real HTTP on 127.0.0.1."""

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from langchain_core.messages import HumanMessage

from assistant.llm.masking import ServerChatOpenAI
from core.errors import GovDataError


class _Handler(BaseHTTPRequestHandler):
    mode = "500"

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.mode == "500":
            self.send_error(500)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()  # a stream whose chunks carry no role: not what the OpenAI format promises
        chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                 "choices": [{"index": 0, "delta": {"content": "{}"}, "finish_reason": None}]}
        self.wfile.write(f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode())


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def _model(url: str) -> ServerChatOpenAI:
    return ServerChatOpenAI(base_url=url, model="m", api_key="k", max_retries=0, timeout=5)  # type: ignore[arg-type]


def test_a_server_that_went_down_is_named_with_its_url() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/v1"  # closed again before the call
    with pytest.raises(GovDataError, match=f"the model server at {url} is not reachable"):
        _model(url).invoke([HumanMessage("q")])


def test_an_http_error_names_the_url_and_the_status(server: str) -> None:
    _Handler.mode = "500"
    with pytest.raises(GovDataError, match=f"the model server at {server} refused the request: HTTP 500"):
        _model(server).invoke([HumanMessage("q")])


def test_an_unreadable_stream_is_one_line_not_a_traceback(server: str) -> None:
    _Handler.mode = "roleless"
    with pytest.raises(GovDataError) as caught:
        list(_model(server).stream([HumanMessage("q")], response_format={"type": "json_object"}))
    message = str(caught.value)
    assert message.startswith(f"the model server at {server} ") and "\n" not in message, message
