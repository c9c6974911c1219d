"""Fetching the data without the internet: a local HTTP server on 127.0.0.1 stands in for the official sites.

It serves the real SQuAD dev JSON (decompressed from the shared copy, so the official sha256 applies) and a
small archive in the aclImdb layout made here; modes break it on purpose: a corrupted file, a download cut
short, a server that ignores Range. Every run is the real CLI as a process (exit code, stderr, files left).
"""
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import REPO, fresh_env

DEV_STORED_SHA = "c64fe26c35acdc15eec216f26c513dd7299a0a443d228be26b11abad943b3a1e"


class Server:
    """Files by name; mode: ok | corrupt (one byte flipped) | cut (half, then close) | norange (ignores Range)."""

    def __init__(self, files: dict):
        self.files, self.mode, self.requests = files, "ok", []
        srv = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                name = self.path.rsplit("/", 1)[-1]
                srv.requests.append((name, self.headers.get("Range")))
                if name not in srv.files:
                    self.send_error(404)
                    return
                body = srv.files[name]
                if srv.mode == "corrupt":
                    body = body[:100] + bytes([body[100] ^ 1]) + body[101:]
                start = 0
                rng = self.headers.get("Range")
                if rng and srv.mode != "norange":
                    start = int(rng.split("=")[1].split("-")[0])
                    if start >= len(body):
                        self.send_error(416)
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                if srv.mode == "cut":
                    self.wfile.write(body[start:start + (len(body) - start) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body[start:])

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def make_imdb_archive(per_label: int) -> tuple[bytes, dict]:
    """aclImdb layout: {train,test}/{neg,pos}/<id>_<rating>.txt (+ unsup and extra files, which are ignored)."""
    buf, texts = io.BytesIO(), {}
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        def add(name, text):
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        add("aclImdb/README", "Large Movie Review Dataset v1.0")
        for split in ("train", "test"):
            for lab, folder in ((0, "neg"), (1, "pos")):
                for rid in reversed(range(per_label)):  # archive order is not id order
                    text = f'{split} {folder} review {rid}, with "quotes", a comma<br /><br />and café'
                    texts[(split, lab, rid)] = text
                    add(f"aclImdb/{split}/{folder}/{rid}_{7 if lab else 2}.txt", text)
            add(f"aclImdb/{split}/urls_pos.txt", "http://example.org")
        add("aclImdb/train/unsup/0_0.txt", "unlabelled")
    return buf.getvalue(), texts


@pytest.fixture(scope="module")
def dev_json(dev_file):
    return gzip.decompress(Path(dev_file).read_bytes())


@pytest.fixture(scope="module")
def server(dev_json):
    archive, texts = make_imdb_archive(3)
    s = Server({"dev-v2.0.json": dev_json, "aclImdb_v1.tar.gz": archive})
    s.imdb_sha = hashlib.sha256(archive).hexdigest()
    s.imdb_texts = texts
    yield s
    s.httpd.shutdown()


@pytest.fixture
def env(server, tmp_path):
    server.mode, server.requests[:] = "ok", []
    manifest = tmp_path / "manifest.json"  # the test archive stands in for the real one: its checksum, 3 per label
    manifest.write_text(json.dumps({"imdb": {"sha256": server.imdb_sha, "rows_per_label": 3}}))
    e = {**os.environ, "SQUAD_BASE_URL": server.url, "IMDB_BASE_URL": server.url, "DATA_DIR": str(tmp_path / "data"),
         "BERTKIT_DATA_MANIFEST": str(manifest), "FETCH_TIMEOUT": "10"}
    e.pop("DATA_OFFLINE", None)
    return e


def fetch(env, *items):
    return subprocess.run([sys.executable, "-m", "bertkit.data.fetch", *items], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)


def files_under(d: Path):
    return sorted(str(p.relative_to(d)) for p in d.rglob("*") if p.is_file()) if d.exists() else []


def one_error_line(p):
    assert p.returncode == 2, p.stderr
    errors = [ln for ln in p.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in p.stderr, p.stderr
    return errors[0]


def test_fetch_squad_dev_verifies_and_lays_out_like_shared(env, server, dev_file):
    p = fetch(env, "squad-dev")
    assert p.returncode == 0, p.stderr
    data = Path(env["DATA_DIR"])
    assert files_under(data) == ["squad_v2/dev-v2.0.json.gz"]  # no .part or temp file left
    stored = (data / "squad_v2/dev-v2.0.json.gz").read_bytes()
    assert hashlib.sha256(stored).hexdigest() == DEV_STORED_SHA == hashlib.sha256(Path(dev_file).read_bytes()).hexdigest()
    assert "100%" in p.stderr and "fetched and verified" in p.stderr


def test_fetch_imdb_converts_archive_to_csvs(env, server):
    p = fetch(env, "imdb")
    assert p.returncode == 0, p.stderr
    data = Path(env["DATA_DIR"])
    assert files_under(data) == ["imdb/CONVERSION.json", "imdb/test.csv.gz", "imdb/train.csv.gz"]
    from bertkit.data.imdb import read_labelled
    rows = read_labelled(str(data / "imdb/train.csv.gz"))
    # negative then positive, each in ascending id, text unchanged
    assert [(r["label"], r["text"]) for r in rows] == \
        [(lab, server.imdb_texts[("train", lab, rid)]) for lab in (0, 1) for rid in range(3)]
    rec = json.loads((data / "imdb/CONVERSION.json").read_text())
    assert rec["archive"]["sha256"] == server.imdb_sha and rec["files"]["train.csv.gz"]["rows"] == 6
    assert rec["files"]["test.csv.gz"]["sha256"] == hashlib.sha256((data / "imdb/test.csv.gz").read_bytes()).hexdigest()
    again = fetch(env, "imdb")  # present and recorded: verified once, remembered, not fetched again
    assert again.returncode == 0 and server.requests == [("aclImdb_v1.tar.gz", None)], again.stderr
    assert again.stderr.count("verified (remembered)") == 2, again.stderr
    from bertkit.data.files import MEMO
    memo = json.loads(MEMO.read_text())
    assert memo[str((data / "imdb/train.csv.gz").resolve())]["verified"] == "converted from the verified archive"


@pytest.mark.parametrize("mode, words", [("corrupt", "not the expected file"), ("cut", "was cut")])
def test_bad_download_leaves_nothing(env, server, mode, words):
    server.mode = mode
    for item in ("squad-dev", "imdb"):
        p = fetch(env, item)
        line = one_error_line(p)
        assert words in line and "nothing kept" in line, line
        assert not Path(env["DATA_DIR"]).exists()  # not even an empty folder
    server.mode = "ok"  # a rerun restarts cleanly
    assert fetch(env, "squad-dev").returncode == 0


def test_interrupted_download_resumes(env, server, dev_json):
    part = Path(env["DATA_DIR"]) / "squad_v2" / ".dev-v2.0.json.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(dev_json[:1_000_000])  # what a Ctrl-C leaves
    p = fetch(env, "squad-dev")
    assert p.returncode == 0, p.stderr
    assert server.requests == [("dev-v2.0.json", "bytes=1000000-")] and "(resumed)" in p.stderr
    assert files_under(Path(env["DATA_DIR"])) == ["squad_v2/dev-v2.0.json.gz"]
    # a server that cannot resume: the part is discarded and the file fetched whole
    (Path(env["DATA_DIR"]) / "squad_v2/dev-v2.0.json.gz").unlink()
    part.write_bytes(dev_json[:1_000_000])
    server.mode = "norange"
    assert fetch(env, "squad-dev").returncode == 0
    assert hashlib.sha256((part.parent / "dev-v2.0.json.gz").read_bytes()).hexdigest() == DEV_STORED_SHA


def test_present_files_are_not_fetched(env, server, dev_file, tmp_path):
    env["DATA_DIR"] = str(Path(dev_file).parents[1])  # the shared folder (read-only): verified, never written
    p = fetch(env, "squad-dev")
    assert p.returncode == 0 and "verified" in p.stderr and server.requests == [], p.stderr
    # a file that is not the official one is refused, never replaced
    bad = tmp_path / "mine" / "squad_v2" / "dev-v2.0.json.gz"
    bad.parent.mkdir(parents=True)
    mine = gzip.compress(b'{"data": []}')
    bad.write_bytes(mine)
    env["DATA_DIR"] = str(tmp_path / "mine")
    line = one_error_line(fetch(env, "squad-dev"))
    assert "is not the official file" in line and str(bad) in line, line
    assert bad.read_bytes() == mine and server.requests == []


def test_offline_is_one_line_naming_url_and_sha(env, server):
    for extra in ({"DATA_OFFLINE": "1"}, {"SQUAD_BASE_URL": "http://127.0.0.1:9/"}):  # said offline; no network
        p = fetch({**env, **extra}, "squad-dev")
        line = one_error_line(p)
        assert "dev-v2.0.json" in line and "80a5225e94905956a6446d296ca1093975c4d3b3260f1d6c8f68bc2ab77182d8" in line
        assert "DATA_DIR" in line and "get_data.sh squad-dev" in line, line
        assert not Path(env["DATA_DIR"]).exists()
    assert server.requests == []


def light_venv(clone: Path):
    """The clone's .venv in a second: no packages of its own, this interpreter's on its path (what setup_env.sh
    installs, from the same requirements.txt), marked up to date the way setup_env.sh marks it."""
    import site
    venv = clone / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    pure = next(venv.glob("lib/python*/site-packages"))
    (pure / "parent.pth").write_text("".join(f"import site; site.addsitedir({d!r})\n" for d in site.getsitepackages()))
    (venv / ".requirements.sha256").write_text(hashlib.sha256((clone / "requirements.txt").read_bytes()).hexdigest() + "\n")


def printed_commands(out: str) -> list[str]:
    """What a script tells its user to type next ("ask it: ...", "serve it: ..."), without the trailing comment."""
    return [re.sub(r"\s+#.*$", "", m) for m in re.findall(r"^(?:ask it|serve it|classify with it): +(.+)$", out, re.M)]


def test_laptop_script_in_a_fresh_clone_fetches_then_runs(server, tmp_path):
    """The README's two commands and then what they print, in a clone with no ../shared beside it, DATA_DIR unset,
    in a new terminal's environment (no venv active, no `python`): the main job fetches the dev file into the
    project's data/ before its first step and trains; the "ask it" line and the model card's command answer; the
    test command runs. Offline, with the data gone, the job stops with the one line."""
    clone = tmp_path / "clone" / "project"
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True,
                            text=True, check=True).stdout.splitlines()
    for rel in listed:
        if (REPO / rel).is_file():
            (clone / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, clone / rel)
    assert not (clone.parent / "shared").exists()
    light_venv(clone)
    e = fresh_env(tmp_path, SQUAD_BASE_URL=server.url, FETCH_TIMEOUT=10, MAX_EVAL_SAMPLES=6, MAX_TRAIN_SAMPLES=12,
                  MAX_SEQ_LENGTH=128, DOC_STRIDE=32, BATCH=4, EVAL_BATCH=16, RUN_NAME="fresh")
    e.pop("DATA_DIR", None)
    p = subprocess.run(["bash", "scripts/finetune_subset.sh"], cwd=clone, env=e, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=900)  # one stream: the order of lines
    out = p.stdout
    assert p.returncode == 0, out[-4000:]
    stored = clone / "data" / "squad_v2" / "dev-v2.0.json.gz"
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == DEV_STORED_SHA
    assert server.requests == [("dev-v2.0.json", None)]
    assert out.index("model: offline MiniLM") < out.index("fetch: ") < out.index("+ .venv/bin/python run_baseline.py")
    r = json.loads((clone / "results" / "fresh.json").read_text())
    assert Path(r["data"]["files"]["validation"]["path"]).resolve() == stored.resolve()
    assert r["data"]["files"]["validation"]["sha256"] == DEV_STORED_SHA and r["metrics"]["total"] == 6
    assert r["command"].startswith(".venv/bin/python run_squad.py") and r["runtime"]["device"] == "cpu"
    assert subprocess.run(["git", "check-ignore", "-q", "data/squad_v2/dev-v2.0.json.gz"], cwd=REPO).returncode == 0
    # what the job printed, and the model card's command, typed into the same kind of terminal
    card = (clone / "results" / "fresh" / "README.md").read_text()
    asked = printed_commands(out) + re.findall(r"`(\.venv/bin/python ask\.py [^`]+)`", card)
    assert len(asked) == 3 and asked[0].startswith(".venv/bin/python ask.py --model results/fresh "), out[-2000:]
    for cmd in asked:
        run = cmd if not cmd.startswith("bash ") else f"PRINT_ONLY=1 {cmd}"  # the server: tests/test_fresh_shell.py
        q = subprocess.run(["bash", "-c", run], cwd=clone, env=e, capture_output=True, text=True, timeout=300)
        assert q.returncode == 0 and (("best span" in q.stdout or "answer" in q.stdout) or run.startswith("PRINT")), \
            f"{cmd}: {q.stdout[-1000:]}{q.stderr[-2000:]}"
    q = subprocess.run(["bash", "scripts/test.sh", "tests/test_layout.py", "-q"], cwd=clone, capture_output=True,
                       text=True, env={**e, "DATA_OFFLINE": "1", "BROWSER": "0"}, timeout=300)
    assert q.returncode == 0 and " passed" in q.stdout, q.stdout[-3000:] + q.stderr[-2000:]
    # offline, with the data gone: one line naming the URL and sha256, nothing run, results untouched
    shutil.rmtree(clone / "data")
    before = sorted(str(x.relative_to(clone)) for x in (clone / "results").rglob("*"))
    p = subprocess.run(["bash", "scripts/finetune_subset.sh"], cwd=clone, env={**e, "DATA_OFFLINE": "1",
                       "RUN_NAME": "offline"}, capture_output=True, text=True, timeout=300)
    line = one_error_line(p)
    assert "https://rajpurkar.github.io/SQuAD-explorer/dataset/dev-v2.0.json" not in line  # the mirror set here
    assert server.url + "dev-v2.0.json" in line and "80a5225e9490" in line and "DATA_DIR" in line, line
    assert sorted(str(x.relative_to(clone)) for x in (clone / "results").rglob("*")) == before
    assert "run_baseline.py" not in p.stdout


