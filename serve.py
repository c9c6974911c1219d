"""Serve a fine-tuned model: a web page to ask it and a JSON API, offline, on 127.0.0.1 by default.

    .venv/bin/python serve.py --model results/squad_subset_<time>        # a run_squad.py output folder: /answer
    .venv/bin/python serve.py --model results/imdb_subset_head_tail_<time> --port 8001   # run_imdb.py output: /classify
    curl -s localhost:8000/answer -H 'content-type: application/json' \
        -d '{"question": "What is the capital of China?", "context": "The capital of China is Beijing."}'
GET / is the page (no CDN, no build step), GET /health the model, threshold and versions. POST /answer takes
{"question", "context", "top_k": 3, "threshold": null} or {"questions": [{"question", "context"}, ...]} (one
batch); POST /classify {"text"} or {"texts": [...]}. A bad request gets HTTP 4xx and {"error": "<one line>"}.
"""
import argparse
import json
import logging
import sys
from pathlib import Path

from bertkit.errors import UserError, exit_on_user_error
from bertkit.serve.service import MAX_CONTEXT_CHARS, BadRequest, Served

PAGE = Path(__file__).resolve().parent / "bertkit" / "serve" / "page.html"
MAX_BODY = 2 * MAX_CONTEXT_CHARS * 4 + 65536  # bytes: the biggest valid request, in UTF-8, with room for JSON


def create_app(served: Served):
    from fastapi import FastAPI, Request
    from fastapi.responses import HTMLResponse, JSONResponse
    from starlette.concurrency import run_in_threadpool

    app = FastAPI(title="bert-squad-imdb", docs_url=None, redoc_url=None, openapi_url=None)
    page = PAGE.read_text(encoding="utf-8").replace("__TASK__", served.task)

    def error(status: int, message: str):
        return JSONResponse({"error": message}, status_code=status)

    async def body_of(request: Request):
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            raise BadRequest(415, f"content-type is {kind or 'missing'}; send application/json")
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:  # refused before it is read into memory
            raise BadRequest(413, f"the body has {declared} bytes; at most {MAX_BODY}")
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise BadRequest(413, f"the body has {len(raw)} bytes; at most {MAX_BODY}")
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError) as e:
            raise BadRequest(400, f"the body is not valid JSON ({str(e).splitlines()[0][:80]})") from None

    async def handle(request: Request, fn):
        try:
            return JSONResponse(await run_in_threadpool(fn, await body_of(request)))
        except BadRequest as e:
            return error(e.status, e.message)
        except Exception as e:  # a bug must not take the server down: one line to the client and to the log
            logging.getLogger("serve").exception("request failed")
            return error(500, f"internal error ({type(e).__name__}); the server log has the details")

    @app.get("/", response_class=HTMLResponse)
    async def index():
        return page

    @app.get("/health")
    async def health():
        return served.health()

    @app.post("/answer")
    async def answer(request: Request):
        return await handle(request, served.answer)

    @app.post("/classify")
    async def classify(request: Request):
        return await handle(request, served.classify)

    @app.exception_handler(404)
    async def not_found(request, exc):
        return error(404, f"no {request.method} {request.url.path}; use GET /, GET /health, POST /answer or "
                          "POST /classify")

    @app.exception_handler(405)
    async def bad_method(request, exc):
        return error(405, f"{request.method} is not allowed on {request.url.path}")

    return app


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="a run's output folder (run_squad.py or run_imdb.py)")
    p.add_argument("--host", default="127.0.0.1", help="127.0.0.1: this machine only (0.0.0.0: every network)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--max_seq_length", type=int, default=None, help="default 384 (QA) / 256 (sentiment)")
    p.add_argument("--doc_stride", type=int, default=128)
    p.add_argument("--max_context_chars", type=int, default=MAX_CONTEXT_CHARS)
    p.add_argument("--int8", action="store_true", help="serve the int8 model (CPU): 2.26x faster, F1 -0.1 on the "
                   "default run (benchmarks/int8_inference.py)")
    a = p.parse_args()
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.WARNING)
    if not 0 < a.port < 65536:
        raise UserError(f"--port {a.port}: give 1-65535")
    if not Path(a.model).is_dir():
        raise UserError(f"--model {a.model} is not a folder; pass a run's output folder (e.g. results/squad_subset_<time>)")
    try:
        import uvicorn
    except ModuleNotFoundError:
        raise UserError("the server needs fastapi and uvicorn: .venv/bin/python -m pip install -r requirements.txt") from None
    import socket
    with socket.socket() as s:  # before the model loads: a taken port is one line, not a uvicorn traceback
        try:
            s.bind((a.host, a.port))
        except OSError as e:
            raise UserError(f"cannot listen on {a.host}:{a.port} ({e.strerror}); pass another --port") from None
    served = Served(a.model, a.max_seq_length, a.doc_stride, max_context_chars=a.max_context_chars, int8=a.int8)
    where = f"http://{a.host}:{a.port}/"
    print(f"serving {served.task} model {served.model_dir} at {where} (Ctrl-C stops)", file=sys.stderr, flush=True)
    uvicorn.run(create_app(served), host=a.host, port=a.port, log_level="warning", access_log=False)
    print("server stopped", file=sys.stderr)


if __name__ == "__main__":
    exit_on_user_error(main)
