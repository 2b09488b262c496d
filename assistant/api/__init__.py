"""The REST shell (issue 31): the use cases over HTTP at /api/v1 for other departments' systems. `app` builds the
FastAPI app (routes, the bearer-token dependency, the body limit); `errors` turns each error into one JSON line
with its status (401, 403, 404, 413, 422, 429). Shapes are the CLI's `--json` (assistant/shapes.py)."""
