"""Whole-process SQuAD 2.0 evaluation: this kit's run_squad.py beside Hugging Face's run_qa.py, same model,
questions, lengths and eval batch, each a fresh process with a fresh HF_HOME (cold caches), A B A B alone.

run_qa.py is not in any package: give --run_qa a folder holding transformers' examples/pytorch/question-
answering/{run_qa.py, utils_qa.py, trainer_qa.py} and, offline, evaluate's metrics/squad_v2/ (squad_v2.py,
compute_score.py) as a `squad_v2` subfolder (run_qa.py loads the metric by that name; a local folder of that
name is what evaluate.load finds without the hub). The folder is copied; older copies get the few line edits
transformers 5 needs (COMPAT below; the JSON lists the ones applied); nothing else of theirs is changed.
Both processes read the same questions: a seeded random --max_eval_samples of the dev-split eval articles
(25-34), written as JSONL for run_squad.py and as {"data": [...]} JSON for run_qa.py. Each side's own
defaults otherwise: run_qa.py pads every window to --max_seq_length, in dataset order; run_squad.py pads each
batch to its longest window, longest first. Threshold 0 for both (run_qa.py's default), so their F1 compare.
    .venv/bin/python benchmarks/vs_run_qa.py --run_qa /path/to/hf_qa --model results/<a fine-tuned run>
    .venv/bin/python benchmarks/vs_run_qa.py --run_qa /path/to/hf_qa --model results/<run> --ours_args=--prediction_precision=bf16
Writes results/benchmarks/vs_run_qa_<time>.json (never overwrites).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bertkit.data.files import data_dir, sha256_file  # noqa: E402
from bertkit.errors import UserError, exit_on_user_error  # noqa: E402
from bertkit.results.record import REPO, provenance, relpath, write_json_atomic  # noqa: E402

# (file, old text, new text): what an older run_qa.py needs on transformers 5, applied only where the old text is.
COMPAT = [
    ("run_qa.py", "from transformers.utils import check_min_version, send_example_telemetry",
     "from transformers.utils import check_min_version"),  # telemetry helper removed in transformers 5
    ("run_qa.py", '    send_example_telemetry("run_qa", model_args, data_args)\n', ""),
    ("trainer_qa.py", "from transformers import Trainer, is_torch_tpu_available",
     "from transformers import Trainer, is_torch_xla_available"),
    ("trainer_qa.py", "if is_torch_tpu_available(check_device=False):", "if is_torch_xla_available():"),
    ("trainer_qa.py", "self.prediction_loop if self.args.use_legacy_prediction_loop else self.evaluation_loop",
     "self.evaluation_loop"),  # the legacy loop and its flag are gone
    ("trainer_qa.py", "self.args.tpu_metrics_debug or self.args.debug", "self.args.debug"),
]
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_EVALUATE_OFFLINE": "1"}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run_qa", required=True, help="folder with run_qa.py, utils_qa.py, trainer_qa.py (+ squad_v2/)")
    p.add_argument("--model", required=True, help="a QA model folder (a fine-tuned run: its answers are compared)")
    p.add_argument("--data_dir", default=str(data_dir()))
    p.add_argument("--max_eval_samples", type=int, default=500)
    p.add_argument("--max_seq_length", type=int, default=256)
    p.add_argument("--doc_stride", type=int, default=64)
    p.add_argument("--batch_size", type=int, default=32, help="per_device_eval_batch_size of both")
    p.add_argument("--repeats", type=int, default=2, help="timed runs of each, alternating (A B A B)")
    p.add_argument("--seed", type=int, default=42, help="picks the questions; both scripts' --seed")
    p.add_argument("--ours_args", default="", help="extra run_squad.py flags (a lever under test), one string")
    p.add_argument("--output", default=None)
    return p.parse_args(argv)


def check_reference(src: Path):
    missing = [f for f in ("run_qa.py", "utils_qa.py", "trainer_qa.py") if not (src / f).is_file()]
    if missing:
        raise UserError(f"--run_qa {src}: no {', '.join(missing)}; give the folder of transformers' "
                        "examples/pytorch/question-answering")
    if not (src / "squad_v2" / "squad_v2.py").is_file():
        raise UserError(f"--run_qa {src}: no squad_v2/squad_v2.py; offline, put evaluate's metrics/squad_v2 "
                        "folder there (run_qa.py loads the metric by that name)")


def reference_copy(src: Path, dst: Path) -> list[str]:
    """Copy the run_qa.py folder and apply COMPAT where needed; the edits applied."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
    applied = []
    for name, old, new in COMPAT:
        text = (dst / name).read_text(encoding="utf-8")
        if old in text:
            (dst / name).write_text(text.replace(old, new), encoding="utf-8")
            applied.append(f"{name}: {old.strip()!r} -> {new.strip()!r}")
    return applied


def write_questions(a, work: Path) -> dict:
    from bertkit.data import squad as Q
    dev = Path(a.data_dir) / "squad_v2" / "dev-v2.0.json.gz"
    full = Q.squad_file_dataset(str(dev), flag="--data_dir")
    ev = Q.limit_questions(Q.select_articles(full, *Q.DEV_SPLIT["eval_articles"]), a.max_eval_samples, a.seed)
    rows = [{k: r[k] for k in ("id", "title", "context", "question", "answers")} for r in ev]
    with open(work / "eval.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    (work / "eval.json").write_text(json.dumps({"data": rows}), encoding="utf-8")
    return {"source": relpath(dev), "sha256": sha256_file(dev), "protocol": "dev-split",
            "protocol_note": "eval = dev articles 25-34; NOT comparable to published SQuAD 2.0 dev numbers",
            "questions": len(rows), "answerable": sum(bool(r["answers"]["text"]) for r in rows),
            "subset": f"seeded random {a.max_eval_samples} (seed {a.seed})"}


def timed(cmd: list[str], cwd: Path, env: dict, log: Path) -> float:
    print("+", shlex.join(cmd), flush=True)
    t = time.perf_counter()
    with open(log, "w") as f:
        rc = subprocess.run(cmd, cwd=cwd, env=env, stdout=f, stderr=subprocess.STDOUT).returncode
    wall = time.perf_counter() - t
    if rc:
        raise UserError(f"{cmd[1]} exited {rc}; its output: {log}")
    return round(wall, 2)


def main(argv=None):
    a = parse_args(argv)
    from bertkit.train.modeling import model_provenance, resolve_model
    out = Path(a.output or REPO / "results" / "benchmarks" /
               f"vs_run_qa_{datetime.datetime.now().strftime('%Y%m%d_%H%M%S')}.json")
    if out.exists():
        raise UserError(f"{out} exists; choose another --output")
    check_reference(Path(a.run_qa))
    model = str(Path(resolve_model(a.model)).resolve())
    work = Path(tempfile.mkdtemp(prefix="vs_run_qa_"))
    ref = work / "hf"
    edits = reference_copy(Path(a.run_qa), ref)
    data = write_questions(a, work)
    common = ["--model_name_or_path", model, "--max_seq_length", str(a.max_seq_length), "--doc_stride",
              str(a.doc_stride), "--per_device_eval_batch_size", str(a.batch_size), "--seed", str(a.seed),
              "--do_eval", "--report_to", "none"]
    py = sys.executable
    sides = {
        "run_squad": lambda d: [py, str(REPO / "run_squad.py"), *common, "--validation_file", str(work / "eval.jsonl"),
                                "--output_dir", str(d), "--results_file", str(d / "results.json"),
                                *shlex.split(a.ours_args)],
        "run_qa": lambda d: [py, "run_qa.py", *common, "--validation_file", str(work / "eval.json"),
                             "--version_2_with_negative", "--output_dir", str(d)],
    }
    seconds = {s: [] for s in sides}
    for r in range(a.repeats):
        for side, cmd in sides.items():
            d = work / f"{side}_{r}"
            env = {**os.environ, **OFFLINE, "HF_HOME": str(work / f"home_{side}_{r}")}  # cold caches each run
            seconds[side].append(timed(cmd(d), ref if side == "run_qa" else REPO, env, work / f"{side}_{r}.log"))
    last = a.repeats - 1
    ours = json.loads((work / f"run_squad_{last}" / "results.json").read_text())
    theirs = json.loads((work / f"run_qa_{last}" / "eval_results.json").read_text())
    p_ours = json.loads((work / f"run_squad_{last}" / "predictions.json").read_text())
    p_theirs = json.loads((work / f"run_qa_{last}" / "eval_predictions.json").read_text())
    same = sum(p_ours[k] == p_theirs.get(k) for k in p_ours)
    med = {s: round(statistics.median(v), 2) for s, v in seconds.items()}
    result = {
        "benchmark": "vs_run_qa", "model": model_provenance(model), "data": data,
        "settings": {"max_seq_length": a.max_seq_length, "doc_stride": a.doc_stride, "batch_size": a.batch_size,
                     "repeats": a.repeats, "seed": a.seed, "ours_args": a.ours_args, "caches": "fresh HF_HOME per run"},
        "reference": {"files": {f: sha256_file(Path(a.run_qa) / f) for f in
                                ("run_qa.py", "utils_qa.py", "trainer_qa.py", "squad_v2/squad_v2.py")},
                      "compat_edits": edits},
        "commands": {s: shlex.join(c(Path(f"<{s}_out>"))) for s, c in sides.items()},
        "seconds": seconds, "median_seconds": med, "speedup": round(med["run_qa"] / med["run_squad"], 3),
        "metrics": {"run_squad": {k: round(ours["metrics"][k], 3) for k in ("exact", "f1", "HasAns_f1", "NoAns_f1")},
                    "run_qa": {k: round(theirs[f"eval_{k}"], 3) for k in ("exact", "f1", "HasAns_f1", "NoAns_f1")}},
        "identical_answers": f"{same}/{len(p_ours)}",
        "timing_run_squad": ours.get("timing"),
        **provenance(),
    }
    write_json_atomic(out, result)
    shutil.rmtree(work, ignore_errors=True)
    print(f"run_qa.py {med['run_qa']} s, run_squad.py {med['run_squad']} s (medians of {a.repeats}): "
          f"{result['speedup']}x; F1 {result['metrics']['run_qa']['f1']} vs {result['metrics']['run_squad']['f1']}; "
          f"identical answers {same}/{len(p_ours)}; wrote {relpath(out)}")


if __name__ == "__main__":
    exit_on_user_error(main)
