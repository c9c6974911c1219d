"""CPU inference in fp32 vs int8 through PyTorch's supported quantization API (torchao's quantize_, which
replaces the deprecated torch.ao.quantization.quantize_dynamic), on the same questions in one run: seconds
(A B A B ..., medians) and SQuAD v2 F1 at the model's saved no-answer threshold.

The rule for an --int8 option in ask.py / serve.py / evaluation: >= 1.5x faster than fp32 with F1 within 0.5,
on the default run's 1,000 eval questions (dev-split, articles 25-34); this script is what decides it. The
deprecated torch.ao path, which the project used before, is measured beside it for reference.
    .venv/bin/python -m pip install --no-deps torchao==0.18.0    # not a dependency of the project
    .venv/bin/python benchmarks/int8_inference.py --model results/squad_subset_<time>
Writes results/benchmarks/int8_inference_<time>.json (never overwrites).
"""
from __future__ import annotations

import argparse
import copy
import datetime
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bertkit.data.files import data_dir  # noqa: E402
from bertkit.errors import UserError, exit_on_user_error  # noqa: E402
from bertkit.results.record import REPO, provenance, write_json_atomic  # noqa: E402

RULE = ">= 1.5x faster than fp32 and F1 within 0.5 of fp32"


def variants(fp32, compile_too: bool):
    """{name: (model, description)}: int8 of every encoder nn.Linear (the task head stays fp32)."""
    import torch
    try:
        import torchao
        from torchao.quantization import Int8DynamicActivationInt8WeightConfig, Int8WeightOnlyConfig, quantize_
    except ImportError:
        raise UserError("torchao is not installed; .venv/bin/python -m pip install --no-deps torchao==0.18.0") from None
    prefix = fp32.base_model_prefix + "."
    encoder = lambda m, name: isinstance(m, torch.nn.Linear) and name.startswith(prefix)  # noqa: E731
    out = {}
    for name, cfg in (("torchao_int8_dynamic", Int8DynamicActivationInt8WeightConfig),
                      ("torchao_int8_weight_only", Int8WeightOnlyConfig)):
        m = copy.deepcopy(fp32)
        quantize_(m, cfg(), filter_fn=encoder)
        out[name] = (m, f"torchao {torchao.__version__} quantize_({cfg.__name__}()), eager")
    if compile_too:
        m = copy.deepcopy(fp32)
        quantize_(m, Int8DynamicActivationInt8WeightConfig(), filter_fn=encoder)
        m.forward = torch.compile(m.forward, dynamic=True)
        out["torchao_int8_dynamic_compiled"] = (m, f"torchao {torchao.__version__} Int8DynamicActivationInt8Weight"
                                                   "Config + torch.compile(dynamic=True); its first call compiles")
    q = torch.ao.quantization  # the deprecated path, for reference only
    spec = {n: q.per_channel_dynamic_qconfig for n, m in fp32.named_modules() if encoder(m, n)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out["torch_ao_deprecated"] = (q.quantize_dynamic(copy.deepcopy(fp32), spec, dtype=torch.qint8),
                                      "torch.ao.quantization.quantize_dynamic, per-channel (deprecated)")
    return out


def main():
    import torch

    from bertkit.data import squad as D
    from bertkit.qa.arguments import saved_threshold
    from bertkit.qa.inference import answer
    from bertkit.qa.scoring import squad_v2_metrics
    from bertkit.train.modeling import load_qa_model, model_provenance
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="a fine-tuned QA run folder (with qa_threshold.json)")
    p.add_argument("--max_eval_samples", type=int, default=1000)
    p.add_argument("--seed", type=int, default=42, help="the eval subset's seed (the default run's: 42)")
    p.add_argument("--max_seq_length", type=int, default=256)
    p.add_argument("--doc_stride", type=int, default=64)
    p.add_argument("--batch_size", type=int, default=32)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--no_compile", action="store_true", help="leave out the torch.compile variant")
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
    models = {"fp32": (fp32, "fp32, eager"), **variants(fp32, not a.no_compile)}
    runs, first, scored = {k: [] for k in models}, {}, {}

    def ask(model):
        t0 = time.perf_counter()
        res = answer(model, tok, ev["question"], ev["context"], a.max_seq_length, a.doc_stride,
                     null_score_diff_threshold=saved["value"], batch_size=a.batch_size)
        return res, time.perf_counter() - t0
    for name, (model, _) in models.items():  # an untimed first pass: warm-up, compilation, the answers scored
        res, first[name] = ask(model)
        preds = {ex["id"]: r["answer"] for ex, r in zip(examples, res)}
        nonnull = {ex["id"]: r["best_span"] for ex, r in zip(examples, res)}
        odds = {ex["id"]: r["null_odds"] for ex, r in zip(examples, res)}
        scored[name] = {**squad_v2_metrics(examples, preds, nonnull, odds), "answers": preds}
    for rep in range(a.repeats):
        for name, (model, _) in models.items():  # A B A B: drift in the machine's speed hits both alike
            runs[name].append(ask(model)[1])
            print(f"{name} run {rep + 1}: {runs[name][-1]:.1f} s", flush=True)
    med = {k: statistics.median(v) for k, v in runs.items()}
    judged = {}
    for name in models:
        if name == "fp32":
            continue
        speedup, drop = med["fp32"] / med[name], scored["fp32"]["f1"] - scored[name]["f1"]
        judged[name] = {"speedup": round(speedup, 3), "f1_drop": round(drop, 3), "first_pass_seconds": round(first[name], 2),
                        "same_answers": sum(scored["fp32"]["answers"][k] == v for k, v in scored[name]["answers"].items()),
                        "passes": speedup >= 1.5 and abs(drop) <= 0.5, "what": models[name][1]}
    supported = [k for k, v in judged.items() if v["passes"] and k.startswith("torchao")]
    rec = {"benchmark": "int8_inference", "model": model_provenance(a.model, fp32, tok),
           "protocol": "dev-split (eval = dev articles 25-34; not official SQuAD 2.0 dev numbers)",
           "questions": len(ev), "seed": a.seed, "max_seq_length": a.max_seq_length, "doc_stride": a.doc_stride,
           "batch_size": a.batch_size, "threshold": saved["value"], "torch_threads": torch.get_num_threads(),
           "seconds": runs, "median_seconds": med, "first_pass_seconds": first,
           "f1": {k: v["f1"] for k, v in scored.items()}, "exact": {k: v["exact"] for k, v in scored.items()},
           "variants": judged, "rule": RULE, "supported_api_passes": supported,
           "decision": "keep --int8 (torchao)" if supported else "no --int8: no variant of the supported API passes",
           **prov}
    write_json_atomic(out, rec)
    print(json.dumps({k: rec[k] for k in ("median_seconds", "f1", "variants", "decision")}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    exit_on_user_error(main)
