"""An OpenAI-compatible chat server with a fixed latency, for load tests of everything around the model.

    python bench/fake_model.py --port 8011 --first-token-s 1.5 --total-s 3

It answers every chat completion with a grounded reply in the answer schema: the first sentence of passage 1
of the prompt, cited as [1]; a request to condense a follow-up gets the follow-up back unchanged.
`stream: true` gets server-sent events (first chunk after `--first-token-s`, the rest spread until
`--total-s`), as llama.cpp's server and vLLM send them. It measures our code under
load, never answer quality: bench/load.py says which model server a run used.
"""

import argparse
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PASSAGE = re.compile(r'<passage n="1"[^>]*>\n(.*?)\n</passage>', re.S)
FOLLOW_UP = re.compile(r"Follow-up question: (.*)\nStandalone question:")
SENTENCE_END = re.compile(r"(?<=[.!?。！？；;])\s*")


def grounded_reply(messages: list[dict[str, Any]]) -> str:
    """The answer JSON for a prompt: passage 1's first sentence (at most 200 characters) of the last message
    (the system prompt's worked example has passages too), cited."""
    prompt = str(messages[-1].get("content", "")) if messages else ""
    if (follow_up := FOLLOW_UP.search(prompt)) is not None:  # condensing a follow-up: the question as it is
        return follow_up.group(1).strip()
    found = PASSAGE.search(prompt)
    if found is None:
        return json.dumps({"answer": "The passages do not say.", "citations": []})
    text = " ".join(found.group(1).split())
    sentence = SENTENCE_END.split(text, maxsplit=1)[0][:200]
    return json.dumps({"answer": f"{sentence} [1]", "citations": [1]}, ensure_ascii=False)


class Handler(BaseHTTPRequestHandler):
    first_token_s = 1.0
    total_s = 2.0
    served = 0
    lock = threading.Lock()

    def log_message(self, *args: Any) -> None:  # quiet: the load test reports
        pass

    def _json(self, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802  (http.server's name)
        if self.path.rstrip("/").endswith("/models"):
            self._json({"object": "list", "data": [{"id": "fake-latency", "object": "model"}]})
        else:
            self.send_error(404)

    def do_POST(self) -> None:  # noqa: N802
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        reply = grounded_reply(request.get("messages", []))
        with Handler.lock:
            Handler.served += 1
        if request.get("stream"):
            self._stream(reply, request.get("model", "fake"))
            return
        time.sleep(self.total_s)
        self._json({"id": "fake", "object": "chat.completion", "created": int(time.time()),
                    "model": request.get("model", "fake"),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": reply}}],
                    "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}})

    def _stream(self, reply: str, model: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        time.sleep(self.first_token_s)
        pieces = [reply[i:i + 16] for i in range(0, len(reply), 16)]
        pause = max(0.0, self.total_s - self.first_token_s) / max(1, len(pieces))
        for n, piece in enumerate(pieces):
            chunk = {"id": "fake", "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
                     "choices": [{"index": 0, "delta": {"content": piece, **({"role": "assistant"} if n == 0 else {})},
                                  "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
            if n + 1 < len(pieces):
                time.sleep(pause)
        done = {"id": "fake", "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        self.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())
        self.wfile.flush()


def serve(port: int, first_token_s: float, total_s: float) -> ThreadingHTTPServer:
    """Start the server on 127.0.0.1:PORT in a daemon thread and return it (call shutdown() to stop)."""
    Handler.first_token_s, Handler.total_s = first_token_s, max(first_token_s, total_s)
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8011)
    parser.add_argument("--first-token-s", type=float, default=1.0)
    parser.add_argument("--total-s", type=float, default=2.0)
    args = parser.parse_args()
    server = serve(args.port, args.first_token_s, args.total_s)
    print(f"fake model server on http://127.0.0.1:{args.port}/v1", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
