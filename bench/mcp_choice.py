"""How the MCP library was chosen (issue 31): import-and-build time, peak memory and tool-call latency over streamable
HTTP (stateless, JSON responses, the SDK's own client, 300 calls after 20 warm-up) of one trivial tool, for the
official `mcp` SDK and for `fastmcp`. Each candidate is installed beside the project's packages, not into them:

    pip install --no-deps --target /tmp/probe/mcp mcp==2.3.0 mcp-types==2.3.0 PyJWT cryptography cffi pycparser
    pip install --no-deps --target /tmp/probe/fastmcp fastmcp==4.2.3 fastmcp-slim==4.2.3 ...  (its 30 packages)
    PYTHONPATH=/tmp/probe/mcp python bench/mcp_choice.py mcp
    PYTHONPATH=/tmp/probe/fastmcp python bench/mcp_choice.py fastmcp

Prints one JSON line. Results and the decision: docs/api.md.
"""

import asyncio
import json
import resource
import socket
import statistics
import sys
import threading
import time
from typing import Any


def build(which: str) -> Any:
    if which == "mcp":
        from mcp.server import MCPServer

        server: Any = MCPServer("probe", log_level="WARNING")
    else:
        from fastmcp import FastMCP

        server = FastMCP("probe")

    @server.tool()
    def search(query: str, k: int = 5) -> dict[str, Any]:
        """Search."""
        return {"results": [query] * k}

    if which == "mcp":
        return server.streamable_http_app(stateless_http=True, json_response=True)
    return server.http_app(stateless_http=True, json_response=True)


async def calls(port: int, n: int) -> list[float]:
    from mcp import Client

    seconds = []
    async with Client(f"http://127.0.0.1:{port}/mcp") as client:
        for _ in range(n):
            start = time.perf_counter()
            assert not (await client.call_tool("search", {"query": "air", "k": 3})).is_error
            seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    import uvicorn

    which = sys.argv[1]
    start = time.perf_counter()
    app = build(which)
    built_s = time.perf_counter() - start
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    ms = sorted(1000 * s for s in asyncio.run(calls(port, 320))[20:])
    print(json.dumps({"library": which, "import_and_build_s": round(built_s, 2),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                      "p50_ms": round(statistics.median(ms), 2), "p95_ms": round(ms[int(0.95 * len(ms))], 2)}))
    server.should_exit = True


if __name__ == "__main__":
    main()
