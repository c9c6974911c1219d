"""SQuAD prediction levers on a CPU, in one process: the same questions predicted by each set-up (A B A B ...),
their seconds (prediction pass + post-processing, what run_squad.py times as eval_seconds) and how many answers
differ from the default's (fp32, sdpa, length-sorted, --per_device_eval_batch_size). Also the share of one
default pass spent in matrix multiplications (torch.profiler), the part no lever outside the kernels can cut.
    .venv/bin/python benchmarks/predict_levers.py --model results/<a fine-tuned run>
    .venv/bin/python benchmarks/predict_levers.py --model results/<run> --max_seq_length 384 --doc_stride 128
Writes results/benchmarks/predict_levers_<time>.json (never overwrites).
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import logging
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bertkit.data.files import data_dir  # noqa: E402
from bertkit.errors import UserError, exit_on_user_error  # noqa: E402
from bertkit.results.record import REPO, provenance, write_json_atomic  # noqa: E402

MATMUL_OPS = ("aten::addmm", "aten::mm", "aten::bmm", "aten::matmul", "aten::linear")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="a QA model folder (a fine-tuned run), or minilm")
    p.add_argument("--data_dir", default=str(data_dir()))
    p.add_argument("--max_eval_samples", type=int, default=500)
    p.add_argument("--max_seq_length", type=int, default=256)
    p.add_argument("--doc_stride", type=int, default=64)
    p.add_argument("--batch_size", type=int, default=32, help="the default's eval batch")
    p.add_argument("--repeats", type=int, default=2, help="timed passes of each set-up, alternating")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--output", default=None)
    return p.parse_args(argv)


def matmul_share(trainer, feats) -> float:
    """Self CPU time of matmul ops over all ops' self time, in one prediction pass."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        trainer.predict(feats)
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    return sum(e.self_cpu_time_total for e in events if e.key in MATMUL_OPS) / total


def main(argv=None):
    a = parse_args(argv)
    import torch
    from transformers import TrainingArguments
    from bertkit.qa import arguments as A
    from bertkit.qa import steps as S
    from bertkit.qa.trainer import QuestionAnsweringTrainer
    from bertkit.train.modeling import ModelArguments, load_qa_model, model_provenance, resolve_model
    from bertkit.train.runtime import collator
    logging.basicConfig(level=logging.WARNING)
    out = Path(a.output or REPO / "results" / "benchmarks" /
               f"predict_levers_{datetime.datetime.now().strftime('%Y%m%d_%H%M%S')}.json")
    if out.exists():
        raise UserError(f"{out} exists; choose another --output")
    dev = Path(a.data_dir) / "squad_v2" / "dev-v2.0.json.gz"
    data_args = A.DataArguments(protocol="dev-split", validation_file=str(dev), max_eval_samples=a.max_eval_samples,
                                max_seq_length=a.max_seq_length, doc_stride=a.doc_stride)
    tmp = tempfile.mkdtemp()
    targs = TrainingArguments(output_dir=tmp, per_device_eval_batch_size=a.batch_size, report_to="none",
                              seed=a.seed, disable_tqdm=True, use_cpu=True)
    questions = S.load_questions(data_args, targs, need_train=False)
    model_path = resolve_model(a.model)
    tok, model = load_qa_model(model_path, a.seed)
    _, examples, feats, data_prov, _ = S.load_features(data_args, tok, targs, questions)

    def trainer(batch=a.batch_size, precision="fp32"):
        return QuestionAnsweringTrainer(
            model=model, args=dataclasses.replace(targs, per_device_eval_batch_size=batch), processing_class=tok,
            data_collator=collator(tok, ModelArguments(), targs), data_args=data_args, prediction_precision=precision)

    def attention(name):
        def switch():
            model.set_attn_implementation(name)  # the public API; switched back after the set-up's pass
        return switch
    setups = {  # name: (trainer, set before the pass, what it is)
        "default": (trainer(), attention("sdpa"), f"fp32, sdpa, batch {a.batch_size}"),
        "batch_16": (trainer(16), attention("sdpa"), "fp32, sdpa, batch 16"),
        "batch_64": (trainer(64), attention("sdpa"), "fp32, sdpa, batch 64"),
        "eager_attention": (trainer(), attention("eager"), "fp32, eager attention"),
        "bf16_autocast": (trainer(precision="bf16"), attention("sdpa"),
                          "--prediction_precision bf16: bf16 autocast, fp32 weights"),
    }
    S.evaluate(setups["default"][0], examples, feats, data_args, tmp, write=False)  # warm-up, untimed
    seconds, answers, f1 = {k: [] for k in setups}, {}, {}
    for _ in range(a.repeats):
        for name, (tr, before, _) in setups.items():
            before()
            metrics, preds, t = S.evaluate(tr, examples, feats, data_args, tmp, write=False)
            seconds[name].append(round(t, 2))
            answers[name], f1[name] = preds, metrics["f1"]
    model.set_attn_implementation("sdpa")
    share = matmul_share(setups["default"][0], feats)
    model.to(torch.bfloat16)  # the model cast to bf16 (what --bf16_full_eval does): last, as it changes the weights
    for _ in range(a.repeats):
        metrics, preds, t = S.evaluate(trainer(), examples, feats, data_args, tmp, write=False)
        seconds.setdefault("bf16_weights", []).append(round(t, 2))
    answers["bf16_weights"], f1["bf16_weights"] = preds, metrics["f1"]
    what = {k: v[2] for k, v in setups.items()} | {"bf16_weights": "model cast to bf16 (the Trainer's --bf16_full_eval)"}
    base = answers["default"]
    med = {k: statistics.median(v) for k, v in seconds.items()}
    result = {
        "benchmark": "predict_levers", "model": model_provenance(model_path),
        "data": {**{k: v for k, v in data_prov.items() if k in ("protocol", "protocol_note", "files")},
                 "eval_questions": len(examples), "eval_windows": len(feats)},
        "settings": {"max_seq_length": a.max_seq_length, "doc_stride": a.doc_stride, "repeats": a.repeats,
                     "threads": torch.get_num_threads()},
        "results": {k: {"what": what[k], "seconds": seconds[k], "median_seconds": med[k],
                        "vs_default": round(med["default"] / med[k], 3), "f1": round(f1[k], 3),
                        "answers_changed": sum(answers[k][q] != base[q] for q in base)} for k in seconds},
        "default_matmul_share": round(share, 3),
        **provenance(),
    }
    write_json_atomic(out, result)
    for k, r in result["results"].items():
        print(f"{k:16s} {r['median_seconds']:6.2f} s  {r['vs_default']:.2f}x  F1 {r['f1']:.2f}  "
              f"{r['answers_changed']} answers changed  ({r['what']})")
    print(f"matmuls: {100 * share:.0f} % of the default pass; wrote {out}")


if __name__ == "__main__":
    exit_on_user_error(main)
