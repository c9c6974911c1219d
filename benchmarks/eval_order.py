"""SQuAD evaluation speed: eval windows in dataset order (the old way) vs longest first (length-sorted batches,
logits mapped back to dataset order), on the same questions with the same model, in one run. Each way runs at
its own eval batch: 64 was the laptop scripts' default in dataset order; sorted batches are faster at a smaller
one on a CPU, 32, now the default (measured: docs/gpu.md, "Evaluation speed").

Alternates the two (A B A B ...) and reports each one's median seconds, windows/s and padded tokens, and
whether the predictions (answers, null odds) are identical.
    .venv/bin/python benchmarks/eval_order.py                                        # MiniLM, 1,000 dev-split questions
    .venv/bin/python benchmarks/eval_order.py --model results/<run> --repeats 3      # a fine-tuned model
Writes results/benchmarks/eval_order_<time>.json (never overwrites).
"""
from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bertkit.data.files import data_dir  # noqa: E402
from bertkit.errors import UserError, exit_on_user_error  # noqa: E402
from bertkit.results.record import REPO, provenance, write_json_atomic  # noqa: E402


def padded_tokens(lengths: np.ndarray, batch: int) -> int:
    """Tokens a run computes when each batch is padded to its longest row."""
    return int(sum(lengths[i:i + batch].max() * len(lengths[i:i + batch]) for i in range(0, len(lengths), batch)))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="minilm")
    p.add_argument("--data_dir", default=str(data_dir()))
    p.add_argument("--max_eval_samples", type=int, default=1000)
    p.add_argument("--max_seq_length", type=int, default=256)
    p.add_argument("--doc_stride", type=int, default=64)
    p.add_argument("--batch_size", type=int, default=64, help="eval batch of the dataset-order way (the old default)")
    p.add_argument("--sorted_batch_size", type=int, default=32,
                   help="eval batch of the length-sorted way (the laptop scripts' EVAL_BATCH now)")
    p.add_argument("--repeats", type=int, default=2, help="timed runs of each way, alternating")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--output", default=None)
    a = p.parse_args()
    import logging

    import dataclasses

    from transformers import TrainingArguments

    from bertkit.qa import arguments as A
    from bertkit.qa import steps as S
    from bertkit.qa.trainer import QuestionAnsweringTrainer
    from bertkit.train.modeling import ModelArguments, load_qa_model, model_provenance, resolve_model
    from bertkit.train.runtime import collator
    logging.basicConfig(level=logging.WARNING)
    out = Path(a.output or REPO / "results" / "benchmarks" /
               f"eval_order_{datetime.datetime.now().strftime('%Y%m%d_%H%M%S')}.json")
    if out.exists():
        raise UserError(f"{out} exists; choose another --output")
    dev = Path(a.data_dir) / "squad_v2" / "dev-v2.0.json.gz"
    data_args = A.DataArguments(protocol="dev-split", validation_file=str(dev), max_eval_samples=a.max_eval_samples,
                                max_seq_length=a.max_seq_length, doc_stride=a.doc_stride)
    tmp = tempfile.mkdtemp()
    targs = TrainingArguments(output_dir=tmp, per_device_eval_batch_size=a.batch_size, report_to="none",
                              seed=a.seed, dataloader_num_workers=0, disable_tqdm=True)
    questions = S.load_questions(data_args, targs, need_train=False)
    model_path = resolve_model(a.model)
    tok, model = load_qa_model(model_path, a.seed)
    _, examples, feats, data_prov, _ = S.load_features(data_args, tok, targs, questions)
    lengths = np.array([len(x) for x in feats["input_ids"]])
    ways = {"dataset_order": (False, a.batch_size), "length_sorted": (True, a.sorted_batch_size)}
    trainers = {way: QuestionAnsweringTrainer(
        model=model, args=dataclasses.replace(targs, per_device_eval_batch_size=batch), processing_class=tok,
        data_collator=collator(tok, ModelArguments(), targs), data_args=data_args, sort_eval_by_length=sort)
        for way, (sort, batch) in ways.items()}
    seconds = {w: [] for w in ways}
    preds = {}
    S.evaluate(trainers["dataset_order"], examples, feats, data_args, tmp, write=False)  # warm-up, untimed
    for _ in range(a.repeats):
        for way in ways:
            metrics, p_, t = S.evaluate(trainers[way], examples, feats, data_args, tmp, write=False)
            seconds[way].append(round(t, 3))
            preds[way] = (p_, metrics)
    same_answers = preds["dataset_order"][0] == preds["length_sorted"][0]
    m0, m1 = preds["dataset_order"][1], preds["length_sorted"][1]
    result = {
        "benchmark": "eval_order", "command": " ".join(sys.argv),
        "model": model_provenance(model_path, model),
        "data": {**{k: v for k, v in data_prov.items() if k in ("protocol", "protocol_note", "files")},
                 "eval_questions": len(examples), "eval_windows": len(feats)},
        "settings": {"max_seq_length": a.max_seq_length, "doc_stride": a.doc_stride,
                     "repeats": a.repeats, "precision": "fp32", "device": str(model.device)},
        "results": {
            way: {"batch_size": batch, "seconds": seconds[way], "median_seconds": statistics.median(seconds[way]),
                  "windows_per_second": round(len(feats) / statistics.median(seconds[way]), 2),
                  "padded_tokens": padded_tokens(lengths[np.argsort(-lengths, kind="stable")] if sort else lengths,
                                                 batch)}
            for way, (sort, batch) in ways.items()},
        "real_tokens": int(lengths.sum()),
        "speedup": round(statistics.median(seconds["dataset_order"]) / statistics.median(seconds["length_sorted"]), 3),
        "identical_predictions": same_answers,
        "identical_metrics": m0 == m1,
        "max_metric_difference": max(abs(m0[k] - m1[k]) for k in m0),
        **provenance(),
    }
    write_json_atomic(out, result)
    print(f"dataset order {result['results']['dataset_order']['median_seconds']} s, length-sorted "
          f"{result['results']['length_sorted']['median_seconds']} s: {result['speedup']}x; identical predictions: "
          f"{same_answers}; wrote {out}")


if __name__ == "__main__":
    exit_on_user_error(main)
