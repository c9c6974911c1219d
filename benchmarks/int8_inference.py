"""CPU inference in fp32 vs dynamic int8 (torch.ao quantize_dynamic of every nn.Linear), on the same questions
in one run: seconds (A B A B ..., medians) and SQuAD v2 F1 at the model's saved no-answer threshold.

The int8 path is kept for ask.py / serve.py / evaluation only if it is >= 1.5x faster with F1 within 0.5 of fp32
on the default run's 1,000 eval questions (dev-split, articles 25-34); this script is what decides it.
    .venv/bin/python benchmarks/int8_inference.py --model results/squad_subset_<time>
Writes results/benchmarks/int8_inference_<time>.json (never overwrites).
"""
from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bertkit.data.files import data_dir  # noqa: E402
from bertkit.errors import UserError, exit_on_user_error  # noqa: E402
from bertkit.results.record import REPO, provenance, write_json_atomic  # noqa: E402


def main():
    import torch

    from bertkit.data import squad as D
    from bertkit.qa.inference import INT8, answer, int8
    from bertkit.train.modeling import load_qa_model, model_provenance
    from bertkit.qa.scoring import squad_v2_metrics
    from bertkit.qa.arguments import saved_threshold
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="a fine-tuned QA run folder (with qa_threshold.json)")
    p.add_argument("--max_eval_samples", type=int, default=1000)
    p.add_argument("--seed", type=int, default=42, help="the eval subset's seed (the default run's: 42)")
    p.add_argument("--max_seq_length", type=int, default=256)
    p.add_argument("--doc_stride", type=int, default=64)
    p.add_argument("--batch_size", type=int, default=32)
    p.add_argument("--repeats", type=int, default=2)
    a = p.parse_args()
    out = REPO / "results" / "benchmarks" / f"int8_inference_{datetime.datetime.now():%Y%m%d_%H%M%S}.json"
    saved = saved_threshold(a.model)
    if saved is None:
        raise UserError(f"{a.model} has no qa_threshold.json; pass a fine-tuned run folder")
    prov = provenance()
    full = D.squad_file_dataset(str(data_dir() / "squad_v2" / "dev-v2.0.json.gz"))
    ev = D.limit_questions(D.select_articles(full, *D.DEV_SPLIT["eval_articles"]), a.max_eval_samples, a.seed)
    examples = [{"id": r["id"], "answers": r["answers"]} for r in ev]
    tok, fp32 = load_qa_model(a.model, seed=0)
    fp32.eval()
    import copy
    # the plain recipe (every nn.Linear, per-tensor scales) vs the one ask.py/serve.py --int8 use (bertkit.qa.inference)
    plain = torch.ao.quantization.quantize_dynamic(copy.deepcopy(fp32), {torch.nn.Linear}, dtype=torch.qint8)
    models = {"fp32": fp32, "int8": plain, "int8_per_channel": int8(fp32)}
    runs = {k: [] for k in models}
    scored = {}
    for rep in range(a.repeats):
        for name, model in models.items():  # A B A B: drift in the machine's speed hits both alike
            t0 = time.perf_counter()
            res = answer(model, tok, ev["question"], ev["context"], a.max_seq_length, a.doc_stride,
                         null_score_diff_threshold=saved["value"], batch_size=a.batch_size)
            runs[name].append(time.perf_counter() - t0)
            print(f"{name} run {rep + 1}: {runs[name][-1]:.1f} s", flush=True)
            if name not in scored:
                preds = {ex["id"]: r["answer"] for ex, r in zip(examples, res)}
                nonnull = {ex["id"]: r["best_span"] for ex, r in zip(examples, res)}
                odds = {ex["id"]: r["null_odds"] for ex, r in zip(examples, res)}
                scored[name] = {**squad_v2_metrics(examples, preds, nonnull, odds), "answers": preds}
    med = {k: statistics.median(v) for k, v in runs.items()}
    variants = {}
    for name in models:
        if name == "fp32":
            continue
        speedup, drop = med["fp32"] / med[name], scored["fp32"]["f1"] - scored[name]["f1"]
        variants[name] = {"speedup": round(speedup, 3), "f1_drop": round(drop, 3),
                          "same_answers": sum(scored["fp32"]["answers"][k] == v for k, v in scored[name]["answers"].items()),
                          "passes": speedup >= 1.5 and abs(drop) <= 0.5}
    rec = {"benchmark": "int8_inference", "model": model_provenance(a.model, fp32, tok),
           "protocol": "dev-split (eval = dev articles 25-34; not official SQuAD 2.0 dev numbers)",
           "questions": len(ev), "seed": a.seed, "max_seq_length": a.max_seq_length, "doc_stride": a.doc_stride,
           "batch_size": a.batch_size, "threshold": saved["value"], "torch_threads": torch.get_num_threads(),
           "quantized_engine": torch.backends.quantized.engine, "seconds": runs, "median_seconds": med,
           "f1": {k: v["f1"] for k, v in scored.items()}, "exact": {k: v["exact"] for k, v in scored.items()},
           "variants": variants, "int8_per_channel": INT8, "int8": "torch.ao quantize_dynamic of every nn.Linear", "rule": ">= 1.5x faster and F1 within 0.5 of fp32",
           "kept": [k for k, v in variants.items() if v["passes"]], **prov}
    write_json_atomic(out, rec)
    print(json.dumps({k: rec[k] for k in ("median_seconds", "f1", "variants", "kept")}))
    print(f"wrote {out}")


if __name__ == "__main__":
    exit_on_user_error(main)
