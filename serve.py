"""Serve a fine-tuned model: a web page to ask it and a JSON API, offline, on 127.0.0.1 by default.

    .venv/bin/python serve.py --model results/squad_subset_<time>        # a run_squad.py output folder: /answer
    .venv/bin/python serve.py --model results/imdb_subset_head_tail_<time> --port 8001   # run_imdb.py output: /classify
    curl -s localhost:8000/answer -H 'content-type: application/json' \
        -d '{"question": "What is the capital of China?", "context": "The capital of China is Beijing."}'
GET / is the page (no CDN, no build step), GET /health the model, threshold, settings (the windows: a flag, else
the model folder's bertkit.json, else the training default; each with where it came from) and versions. POST
/answer takes {"question", "context", "top_k": 3, "threshold": null} or {"questions": [{"question", "context"},
...]} (one batch); POST /classify {"text"} or {"texts": [...]}. The bodies are pydantic models
(bertkit.serve.service.request_models); a bad request gets HTTP 4xx and {"error": "<one line>"}.
"""
import argparse
import logging
import sys
from pathlib import Path

from bertkit.errors import UserError, exit_on_user_error
from bertkit.train.model_settings import CLASSIFY_KEYS, QA_KEYS, dataclass_defaults, describe_settings
from bertkit.serve.service import MAX_CONTEXT_CHARS, BadRequest, Served, one_line, request_models

PAGE = Path(__file__).resolve().parent / "bertkit" / "serve" / "page.html"
MAX_BODY = 2 * MAX_CONTEXT_CHARS * 4 + 65536  # bytes: the biggest valid request, in UTF-8, with room for JSON


def create_app(served: Served):
    from fastapi import Depends, FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import HTMLResponse, JSONResponse
    from starlette.exceptions import HTTPException

    app = FastAPI(title="bert-squad-imdb", docs_url=None, redoc_url=None, openapi_url=None)
    page = PAGE.read_text(encoding="utf-8").replace("__TASK__", served.task)
    AnswerRequest, ClassifyRequest = request_models(served.max_context_chars)

    def error(status: int, message: str):
        return JSONResponse({"error": message}, status_code=status)

    # FastAPI's own max_body_size answers in plain text, not in the {"error"} line every other refusal has
    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        if request.method == "POST":
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_BODY:  # refused before it is read into memory
                return error(413, f"the body has {declared} bytes; at most {MAX_BODY}")
            if not declared.isdigit() and len(raw := await request.body()) > MAX_BODY:  # no length given: read it
                return error(413, f"the body has {len(raw)} bytes; at most {MAX_BODY}")
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if not (kind == "application/json" or kind.startswith("application/") and kind.endswith("+json")):
            return error(415, f"content-type is {kind or 'missing'}; send application/json")  # FastAPI read no JSON
        return error(*one_line(exc.errors()))

    @app.exception_handler(BadRequest)
    async def bad_request(request: Request, exc: BadRequest):
        return error(exc.status, exc.message)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if exc.status_code == 404:
            return error(404, f"no {request.method} {request.url.path}; use GET /, GET /health, POST /answer or "
                              "POST /classify")
        if exc.status_code == 405:
            return error(405, f"{request.method} is not allowed on {request.url.path}")
        if exc.status_code == 400:  # a body FastAPI could not read as JSON at all (e.g. not UTF-8)
            return error(400, f"the body is not valid JSON ({exc.detail}); send a JSON object in UTF-8")
        return error(exc.status_code, str(exc.detail))

    def holds(task: str, other: str):
        """The other task's endpoint: 404 before its body is checked (a dependency runs before the body)."""
        def check():
            if served.task != task:
                raise BadRequest(404, f"this server holds a {other} model: POST /{'classify' if task == 'qa' else 'answer'}")
        return [Depends(check)]

    def run(fn, req):
        try:
            return JSONResponse(fn(req.root))
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

    @app.post("/answer", dependencies=holds("qa", "sentiment"))
    def answer(req: AnswerRequest):  # a plain def: FastAPI runs it in its thread pool, the forward off the loop
        return run(served.answer, req)

    @app.post("/classify", dependencies=holds("sentiment", "question-answering"))
    def classify(req: ClassifyRequest):
        return run(served.classify, req)

    return app


def served_defaults() -> tuple[dict, dict]:
    """run_squad.py's and run_imdb.py's defaults of the settings, for the help (declared in their dataclasses)."""
    from bertkit.classify.arguments import DataArguments as ClassifyData
    from bertkit.qa.arguments import DataArguments as QAData
    return dataclass_defaults(QAData, QA_KEYS), dataclass_defaults(ClassifyData, CLASSIFY_KEYS)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="a run's output folder (run_squad.py or run_imdb.py)")
    p.add_argument("--host", default="127.0.0.1", help="127.0.0.1: this machine only (0.0.0.0: every network)")
    p.add_argument("--port", type=int, default=8000)
    qa, cls = served_defaults()
    saved = "default: the model folder's bertkit.json, else"
    p.add_argument("--max_seq_length", type=int, default=None,
                   help=f"tokens per window ({saved} {qa['max_seq_length']} (QA) / {cls['max_seq_length']} (sentiment))")
    p.add_argument("--doc_stride", type=int, default=None,
                   help=f"QA: tokens shared by consecutive windows ({saved} {qa['doc_stride']})")
    p.add_argument("--max_query_length", type=int, default=None,
                   help=f"QA: question tokens kept ({saved} {qa['max_query_length']})")
    p.add_argument("--max_context_chars", type=int, default=MAX_CONTEXT_CHARS)
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
    served = Served(a.model, a.max_seq_length, a.doc_stride, a.max_query_length, max_context_chars=a.max_context_chars)
    where = f"http://{a.host}:{a.port}/"
    print(f"serving {served.task} model {served.model_dir} at {where} (Ctrl-C stops); "
          f"{describe_settings(served.settings)}", file=sys.stderr, flush=True)
    uvicorn.run(create_app(served), host=a.host, port=a.port, log_level="warning", access_log=False)
    print("server stopped", file=sys.stderr)


if __name__ == "__main__":
    exit_on_user_error(main)
