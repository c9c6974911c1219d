"""Ask a question about a text with any QA model folder (the tutorial's demo, for any text).

    .venv/bin/python ask.py --model outputs/squad_subset --question "What is the capital of China?" \
        --context "The capital of China is Beijing."
    .venv/bin/python ask.py --model outputs/squad_subset --question "Who wrote it?" --context_file article.txt --json
The answer is "" (no answer) when the no-answer score beats the best span by more than --threshold; by default
the threshold a fine-tuning run calibrated and saved with the model (<model>/qa_threshold.json), else 0.0.
"""
import argparse
import json
import logging
import sys
from pathlib import Path

from bertkit.data.files import read_text
from bertkit.errors import UserError, exit_on_user_error
from bertkit.qa.inference import DEMO, INT8, answer, describe, int8
from bertkit.train.modeling import load_qa_model, resolve_model
from bertkit.qa.scoring import abstain_note
from bertkit.qa.arguments import THRESHOLD_FILE, check_model_fits, check_room, saved_threshold


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="model folder (e.g. a run's output_dir) or hub id")
    p.add_argument("--question", default=DEMO["question"])
    g = p.add_mutually_exclusive_group()
    g.add_argument("--context", default=None)
    g.add_argument("--context_file", default=None)
    p.add_argument("--threshold", type=float, default=None,
                   help="null_score_diff_threshold (default: the model folder's qa_threshold.json, else 0.0)")
    p.add_argument("--max_seq_length", type=int, default=384)
    p.add_argument("--doc_stride", type=int, default=128)
    p.add_argument("--max_query_length", type=int, default=64, help="question tokens kept (default 64)")
    p.add_argument("--attn_implementation", default="auto",
                   help="attention kernel: auto (what the model supports: sdpa, else eager), sdpa or eager")
    p.add_argument("--int8", action="store_true", help="answer with the int8 model (CPU): 2.26x faster, F1 -0.1 on "
                   "the default run (benchmarks/int8_inference.py)")
    p.add_argument("--json", action="store_true", help="print the full result (with n-best) as JSON")
    a = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if a.context_file:  # an empty file is an empty context; a missing, non-UTF-8 or folder path is an error
        empty = Path(a.context_file).is_file() and Path(a.context_file).stat().st_size == 0
        context = "" if empty else read_text(a.context_file, "--context_file")
    else:
        context = a.context if a.context is not None else DEMO["context"]
    if not a.question.strip():
        raise UserError("the question is empty; pass --question '...'")
    check_room(a, 3)  # before the model loads: BERT's 3 special tokens, the fewest (checked again after)
    model_path = resolve_model(a.model)
    if not context.strip():  # nothing to find an answer in: say so rather than run the model on nothing
        r = {"question": a.question, "context": context, "answer": "", "best_span": None,
             "note": "no answer: the context is empty"}
        print(json.dumps(r, indent=2, ensure_ascii=False) if a.json else "answer: <no answer> (the context is empty)")
        return
    threshold = {"value": a.threshold, "source": "--threshold"}
    saved = saved_threshold(model_path) if Path(model_path).is_dir() else None
    if a.threshold is None:
        threshold = ({"value": saved["value"], "source": f"{Path(model_path) / THRESHOLD_FILE} ({saved.get('method')})"}
                     if saved else {"value": 0.0, "source": "default (the model folder has no qa_threshold.json)"})
    note = abstain_note(saved)  # the model's own calibration found it cannot tell: say so, whatever --threshold
    # fp32 on the CPU, whatever the checkpoint's dtype
    tok, model = load_qa_model(model_path, seed=0, attn_implementation=a.attn_implementation)
    check_model_fits(a, model, tok)  # the real position limit and the tokenizer's special tokens per pair
    if a.int8:
        model = int8(model)
    r = answer(model, tok, [a.question], [context], a.max_seq_length, a.doc_stride, a.max_query_length,
               null_score_diff_threshold=threshold["value"])[0]
    r["threshold"] = threshold
    r["precision"] = INT8 if a.int8 else "fp32"
    if note:
        r["note"] = note
    if a.json:
        print(json.dumps(r, indent=2, ensure_ascii=False))
    else:
        print(f"no-answer threshold {threshold['value']:+.3f}, from {threshold['source']}")
        if note:
            print(f"note: {note}")
        print(describe(r))


if __name__ == "__main__":
    sys.exit(exit_on_user_error(main))
