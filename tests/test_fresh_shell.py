"""Every command the project documents, run as written in a new terminal: no virtual environment activated and no
`python` (Debian and Ubuntu ship only python3: here a `python` on PATH says "command not found"), nothing set but
HOME, LANG and a plain PATH. The commands come from tests/doc_commands.py (README, CONTRIBUTING, docs/, the --help
usage lines, the scripts' headers); each runs in one of these ways, all of them processes:

- `bash scripts/...` with PRINT_ONLY=1: set-up, model and data chosen, its commands printed (the jobs themselves
  run elsewhere in the suite, and the main job as a new user runs it in tests/test_fetch.py);
- ask.py, classify.py, the model card, the table, the independent re-score, the data folder: as written, with the
  placeholders (results/squad_subset_<time>, ...) made tiny models and files;
- the other Python commands (training, benchmarks): with --help, so the interpreter, its imports and the
  module path are those of the line as written; `curl` against `bash scripts/serve.sh` as documented.
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from bertkit.serve.client import call, free_port
from conftest import REPO, fresh_env
from doc_commands import documented

DEFAULT_RUN = "results/squad_subset_20261202_014953"  # the committed default run: its prediction files are in git
REAL = ("ask.py", "classify.py", "tests/independent_squad_v2.py", "-m bertkit.report.model_card",
        "-m bertkit.report.table", "-m bertkit.data.fetch --where")
# Lines that cannot do their job on this machine, the one-line refusal they must give here instead, and when.
def _no_gpu():
    import torch
    return not torch.cuda.is_available()


def _no_imdb():
    from bertkit.data import files
    return not (files.data_dir() / "imdb" / "train.csv.gz").is_file()


REFUSALS = [
    (r"scripts/(finetune|imdb)_full\.sh", 1, "no GPU visible", _no_gpu),             # a GPU job, on a CPU
    (r"^KIT=\.gpu_kit ", 2, "KIT=.gpu_kit is not a folder", lambda: not (REPO / ".gpu_kit").is_dir()),  # from ../shared/device
    (r"^VENV=system ", 2, "lacks: torch", lambda: True),                             # the bare python3 has no packages
    (r"scripts/gpu_check\.sh$", 2, "imdb/train.csv.gz not found", _no_imdb),         # it checks IMDB too
]
NOT_RUN = {"sbatch": "needs SLURM", "mkdir": "copies ../shared/device, this project's own machine only",
           "curl": "run against the server in test_serve_and_curl_as_documented"}


@pytest.fixture(scope="module")
def places(tmp_path_factory, tiny_model_dir, tokenizer):
    """Tiny stand-ins for the placeholders: a QA folder, a sentiment folder, a run's JSON, a results folder."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification
    d = tmp_path_factory.mktemp("placeholders")
    qa = d / "squad_subset_tiny"
    shutil.copytree(tiny_model_dir, qa)
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=128, id2label={0: "negative", 1: "positive"}, label2id={"negative": 0, "positive": 1})
    cls = d / "imdb_subset_tiny"
    BertForSequenceClassification(cfg).save_pretrained(cls)
    tokenizer.save_pretrained(cls)
    pairs = d / "pairs_tiny"  # a classifier of text pairs (run_classification.py --text_pair_column)
    shutil.copytree(cls, pairs)
    (pairs / "bertkit.json").write_text(json.dumps({"task": "text-classification", "max_seq_length": 64,
                                                    "truncation": "head", "text_pair_column": "passage"}))
    run = json.loads((REPO / f"{DEFAULT_RUN}.json").read_text())
    run["output_dir"] = str(qa)  # the model card is written there, not into the committed run
    (d / "run.json").write_text(json.dumps(run))
    (d / "results").mkdir()
    (d / "article.txt").write_text("The capital of China is Beijing.")
    (d / "review.txt").write_text("A wonderful, moving film.")
    return {"qa": qa, "cls": cls, "pairs": pairs, "json": d / "run.json", "results": d / "results", "dir": d}


def target(args: list[str]) -> list[str]:
    """What an interpreter runs, from the words after it: `-m module` or `script.py`."""
    return args[:2] if args[:1] == ["-m"] else args[:1]


def as_run(text: str, p: dict) -> tuple[str, str]:
    """(mode, the line to run): placeholders made real, and how the line is exercised."""
    words = shlex.split(text)
    env_prefix = 0
    while env_prefix < len(words) and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[env_prefix]):
        env_prefix += 1
    head = words[env_prefix] if env_prefix < len(words) else ""
    if head in NOT_RUN:
        return "skip", NOT_RUN[head]
    if re.fullmatch(r"[A-Za-z_]\w*=(\$\([^)]*\)|[^\s$]|\$\w+)*", text):  # NAME=value: kept for the lines after it
        return "assign", text
    script = " ".join(target(words[env_prefix + 1:]))
    model = str(p["cls"]) if script == "classify.py" else DEFAULT_RUN if "independent" in script else str(p["qa"])
    subs = [("results/squad_subset_<time>", str(p["qa"])), ("results/imdb_subset_head_tail_<time>", str(p["cls"])),
            ("results/<run>.json", str(p["json"])), ("results/<run>", model), ("/path/to/results", str(p["results"])),
            ("/path/to/your/venv", str(REPO / ".venv")), ("article.txt", str(p["dir"] / "article.txt")),
            ("review.txt", str(p["dir"] / "review.txt"))]
    for a, b in subs:
        text = text.replace(a, b)
    text = text.replace("--model outputs/pairs ", f"--model {p['pairs']} ")  # docs/your-data.md's pair model
    text = re.sub(r"(--model(?:_name_or_path)? )(outputs/\w+|path/to/[\w.-]+)", rf"\g<1>{p['qa']}", text)
    text = re.sub(r"\bMODEL=path/to/[\w.-]+", f"MODEL={p['qa']}", text)
    if head == "bash":
        return "plan", f"PRINT_ONLY=1 {text}"
    if head in (".venv/bin/python", "python3") and any(text.split(head, 1)[1].strip().startswith(r) for r in REAL):
        return "real", text
    if head in (".venv/bin/python", "python3"):
        return "help", " ".join([*words[:env_prefix + 1], *target(words[env_prefix + 1:]), "--help"])
    if head == ".venv/bin/accelerate":
        return "help", ".venv/bin/accelerate launch --help"
    return "real", text  # grep and the like: as written


def same_path(mode: str, cmd: str):
    """Lines that exercise the same thing run once: a Python command by its script and the flags it is given (the
    values differ only in placeholders' text), a script's plan by its whole line (the knobs change the plan)."""
    if mode != "real" or not cmd.startswith(".venv/bin/python "):
        return cmd
    args = shlex.split(cmd)[1:]
    script = target(args)
    return " ".join(script), frozenset(w for w in args[len(script):] if w.startswith("--"))


def drive(lines, env, timeout):
    """Run (mode, command) lines in order in one bash, as typed into one terminal (an assignment carries to the
    lines after it); per line its exit status and output."""
    script = ["cd " + shlex.quote(str(REPO))]
    for k, (mode, cmd) in enumerate(lines):
        script.append(f"echo '@@{k}@@'")
        script.append(f"{cmd}; echo \"@@rc {k} $?\"" if mode == "assign" else f"( {cmd} ) < /dev/null 2>&1; echo \"@@rc {k} $?\"")
    p = subprocess.run(["bash", "-c", "\n".join(script)], env=env, capture_output=True, text=True, timeout=timeout)
    out = {}
    for k, chunk in enumerate(re.split(r"^@@\d+@@$", p.stdout, flags=re.M)[1:]):
        m = re.search(r"^@@rc (\d+) (\d+)$", chunk, re.M)
        out[k] = (int(m.group(2)) if m else None, chunk[:m.start()] if m else chunk + p.stderr[-2000:])
    return out


def test_every_documented_command_runs_in_a_fresh_shell(places, tmp_path, dev_file):  # the re-score reads it
    by_file = {}
    for path, line, text in documented():
        mode, cmd = as_run(text, places)
        by_file.setdefault(path, []).append((f"{path}:{line}", mode, text, cmd))
    seen, groups = set(), [[], []]
    for path, items in sorted(by_file.items(), key=lambda kv: -len(kv[1])):
        todo = []
        for where, mode, text, cmd in items:
            key = same_path(mode, cmd)
            if mode == "skip" or (mode != "assign" and key in seen):
                continue
            seen.add(key)
            todo.append((where, mode, text, cmd))
        groups[min((0, 1), key=lambda g: len(groups[g]))].extend(todo)  # two shells, one per core
    env = fresh_env(tmp_path)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda g: drive([(m, c) for _, m, _, c in g], env, 900), groups))
    problems = []
    for group, res in zip(groups, results):
        for k, (where, mode, text, cmd) in enumerate(group):
            rc, out = res.get(k, (None, "(not reached)"))
            if any(re.search(pat, text) and rc == want_rc and msg in out and when()
                   for pat, want_rc, msg, when in REFUSALS):
                continue
            if rc != 0:
                problems.append(f"{where}: `{text}` ran as `{cmd}` ({mode}) and exited {rc}:\n{out[-1500:]}")
            bare = [ln for ln in out.splitlines() if re.match(r"(\+ |.*: +)(python|pip) ", ln)]
            if bare:
                problems.append(f"{where}: `{cmd}` printed a command with a bare python/pip: {bare[0]}")
    assert not problems, "\n\n".join(problems)


def test_serve_and_curl_as_documented(places, tmp_path):
    """README's `bash scripts/serve.sh --model ...`, then docs/use.md's curl line, in a fresh shell."""
    curl = next(t for p, _, t in documented() if t.startswith("curl ") and p == "docs/use.md")
    serve = next(t for p, _, t in documented() if p == "README.md" and t.startswith("bash scripts/serve.sh"))
    port = free_port()
    env = fresh_env(tmp_path, PORT=str(port))
    server = subprocess.Popen(["bash", "-c", serve.replace("results/squad_subset_<time>", str(places["qa"]))],
                              cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            if server.poll() is not None:
                pytest.fail(f"serve.sh exited {server.returncode}:\n{server.stdout.read()[-3000:]}")
            try:
                if call(port, "/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("serve.sh did not answer /health within 120 s")
        p = subprocess.run(["bash", "-c", curl.replace("localhost:8000", f"127.0.0.1:{port}")], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        r = json.loads(p.stdout)
        assert r["question"] == "What is the capital of China?" and "answer" in r and "null_odds" in r
    finally:
        os.killpg(server.pid, 2)  # Ctrl-C, as the user stops it
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
