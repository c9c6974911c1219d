"""A bounded load test of serve.py on 127.0.0.1: C concurrent clients x N requests, mixed valid and invalid.

Starts the server on a free port with the given model, asks ask.py the valid questions first (its answers are
the reference), fires the requests, checks that none is lost, every valid one is answered as ask.py answers it
and every invalid one gets its 4xx, stops the server with Ctrl-C (SIGINT) and reports requests/s and the p50 /
p95 latency. Optionally saves a screenshot of the page after answering the tutorial's demo (Debian chromium).
    .venv/bin/python benchmarks/serve_load.py --model results/squad_subset_<time>
    .venv/bin/python benchmarks/serve_load.py --model results/squad_subset_<time> --screenshot results/serve/page_demo.png
Writes results/benchmarks/serve_load_<time>.json (never overwrites).
"""
from __future__ import annotations

import argparse
import datetime
import json
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bertkit.data.files import data_dir  # noqa: E402
from bertkit.errors import UserError, exit_on_user_error  # noqa: E402
from bertkit.results.record import REPO, provenance, relpath, write_json_atomic  # noqa: E402
from bertkit.serve.client import DEMO, Server, ask_demo_in_browser, call, chromium  # noqa: E402

BAD = [({"question": "", "context": "x"}, 422), (b"{not json", 400), ({"context": "Bob went home."}, 422),
       ({"question": "Who?", "context": "Bob went home.", "top_k": 99}, 422)]


def questions(n: int) -> list[dict]:
    """The demo and the first dev-split eval questions (articles 25-34), as a user would paste them."""
    from bertkit.data.squad import read_squad_rows
    rows = [r for r in read_squad_rows(str(data_dir() / "squad_v2" / "dev-v2.0.json.gz")) if r["article_index"] >= 25]
    return [DEMO] + [{"question": r["question"], "context": r["context"]} for r in rows[: n - 1]]


def ask(model, q) -> dict:
    p = subprocess.run([sys.executable, "ask.py", "--model", model, "--question", q["question"], "--context",
                        q["context"], "--json"], cwd=REPO, capture_output=True, text=True)
    if p.returncode:
        raise UserError(f"ask.py failed on {q['question']!r}: {p.stderr.strip().splitlines()[-1]}")
    return json.loads(p.stdout)


def screenshot(port: int, path: Path) -> dict:
    browser, why = chromium()
    if browser is None:
        raise UserError(f"--screenshot: {why}")
    try:
        return {"file": relpath(path), **ask_demo_in_browser(browser, port, screenshot=path)}
    finally:
        browser.quit()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--requests", type=int, default=50, help="per client")
    p.add_argument("--distinct", type=int, default=6, help="distinct valid questions (each checked against ask.py)")
    p.add_argument("--bad_every", type=int, default=4, help="every k-th request is invalid")
    p.add_argument("--screenshot", default=None)
    p.add_argument("--out", default=None)
    a = p.parse_args()
    out = Path(a.out or REPO / "results" / "benchmarks" /
               f"serve_load_{datetime.datetime.now():%Y%m%d_%H%M%S}.json")
    if out.exists():
        raise UserError(f"{out} exists; results are never overwritten")
    prov = provenance()
    qs = questions(a.distinct)
    t0 = time.perf_counter()
    expected = [ask(a.model, q) for q in qs]
    ask_seconds = (time.perf_counter() - t0) / len(qs)
    server = Server(a.model)
    try:
        def one(k):
            if k % a.bad_every == a.bad_every - 1:
                body, status = BAD[k % len(BAD)]
                kind = ("bad", status)
            else:
                body, kind = qs[k % len(qs)], ("ok", k % len(qs))
            t = time.perf_counter()
            got = call(server.port, "/answer", body)
            return kind, got, time.perf_counter() - t
        total = a.clients * a.requests
        t0 = time.perf_counter()
        with ThreadPoolExecutor(a.clients) as pool:
            done = list(pool.map(one, range(total)))
        wall = time.perf_counter() - t0
        shot = screenshot(server.port, Path(a.screenshot)) if a.screenshot else None
    finally:
        code, err = server.stop()
    wrong = []
    for (kind, ref), (status, text), _ in done:
        r = json.loads(text)
        if kind == "bad":
            if status != ref or set(r) != {"error"}:
                wrong.append({"want": ref, "got": status, "body": text[:200]})
        elif status != 200 or (r["answer"], r["best_span"]) != (expected[ref]["answer"], expected[ref]["best_span"]) \
                or abs(r["null_odds"] - expected[ref]["null_odds"]) > 1e-4:
            wrong.append({"question": qs[ref]["question"], "got": text[:200], "ask_py": expected[ref]["answer"]})
    lat = sorted(t for (kind, _), _, t in done if kind == "ok")
    q = statistics.quantiles(lat, n=100)
    rec = {"benchmark": "serve_load", "model": a.model, "clients": a.clients, "requests_per_client": a.requests,
           "requests": len(done), "valid": len(lat), "invalid": len(done) - len(lat), "lost": total - len(done),
           "wrong": len(wrong), "wrong_examples": wrong[:5], "wall_seconds": round(wall, 2),
           "requests_per_second": round(len(done) / wall, 2), "valid_p50_ms": round(1000 * q[49], 1),
           "valid_p95_ms": round(1000 * q[94], 1), "ask_py_seconds_per_question": round(ask_seconds, 2),
           "distinct_questions": len(qs), "server_exit": code, "server_last_line": err.strip().splitlines()[-1],
           "screenshot": shot, **prov}
    write_json_atomic(out, rec)
    print(json.dumps({k: rec[k] for k in ("requests", "lost", "wrong", "requests_per_second", "valid_p50_ms",
                                          "valid_p95_ms", "server_exit")}))
    print(f"wrote {out}")
    if wrong or code not in (0, 130):
        raise UserError(f"{len(wrong)} wrong answers, server exit {code}: see {out}")


if __name__ == "__main__":
    exit_on_user_error(main)
