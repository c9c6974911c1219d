"""Ask a question about a text with any QA model folder (the tutorial's demo, for any text).

    .venv/bin/python ask.py --model outputs/squad_subset --question "What is the capital of China?" \
        --context "The capital of China is Beijing."
    .venv/bin/python ask.py --model outputs/squad_subset --question "Who wrote it?" --context_file article.txt --json
The answer is "" (no answer) when the no-answer score beats the best span by more than --threshold; by default
the threshold a fine-tuning run calibrated and saved with the model (<model>/qa_threshold.json), else 0.0. The
windows (--max_seq_length, --doc_stride, ...) are those the model was trained with (<model>/bertkit.json), unless given.
"""
import argparse
import json
import logging
import sys
from pathlib import Path

from bertkit.data.files import read_text
from bertkit.errors import UserError, exit_on_user_error
from bertkit.qa.inference import answer, describe, qa_settings, resolve_threshold
from bertkit.qa.tutorial import DEMO
from bertkit.train.model_settings import QA_KEYS, dataclass_defaults, describe_settings
from bertkit.train.modeling import load_qa_model, resolve_model
from bertkit.qa.arguments import DataArguments, check_model_fits, check_room


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="model folder (e.g. a run's output_dir) or hub id")
    p.add_argument("--question", default=DEMO["question"])
    g = p.add_mutually_exclusive_group()
    g.add_argument("--context", default=None)
    g.add_argument("--context_file", default=None)
    p.add_argument("--threshold", type=float, default=None,
                   help="null_score_diff_threshold (default: the model folder's qa_threshold.json, else 0.0)")
    d = dataclass_defaults(DataArguments, QA_KEYS)  # run_squad.py's defaults, shown, never retyped
    saved = "default: the model folder's bertkit.json, else"
    p.add_argument("--max_seq_length", type=int, default=None, help=f"tokens per window ({saved} {d['max_seq_length']})")
    p.add_argument("--doc_stride", type=int, default=None,
                   help=f"tokens shared by consecutive windows ({saved} {d['doc_stride']})")
    p.add_argument("--max_query_length", type=int, default=None,
                   help=f"question tokens kept ({saved} {d['max_query_length']})")
    p.add_argument("--n_best_size", type=int, default=None, help=f"span starts and ends tried ({saved} {d['n_best_size']})")
    p.add_argument("--max_answer_length", type=int, default=None,
                   help=f"longest answer in tokens ({saved} {d['max_answer_length']})")
    p.add_argument("--cut_restated_question", choices=("true", "false"), default=None,
                   help="cut a span that restates the question up to 'is' to what follows it ("
                        f"{saved} {str(d['cut_restated_question']).lower()}; bertkit/qa/restatement.py)")
    p.add_argument("--attn_implementation", default="auto",
                   help="attention kernel: auto (what the model supports: sdpa, else eager), sdpa or eager")
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
    if a.cut_restated_question is not None:
        a.cut_restated_question = a.cut_restated_question == "true"
    model_path = resolve_model(a.model)
    settings = qa_settings(model_path, vars(a))  # the windows the model was evaluated with, unless a flag says
    for key, s in settings.items():
        setattr(a, key, s["value"])
    check_room(a, 3)  # before the model loads: BERT's 3 special tokens, the fewest (checked again after)
    for key in ("n_best_size", "max_answer_length"):
        if getattr(a, key) < 1:
            raise UserError(f"--{key} {getattr(a, key)} (from {settings[key]['source']}): give a positive number")
    if not context.strip():  # nothing to find an answer in: say so rather than run the model on nothing
        r = {"question": a.question, "context": context, "answer": "", "best_span": None,
             "note": "no answer: the context is empty", "settings": settings}
        print(json.dumps(r, indent=2, ensure_ascii=False) if a.json else "answer: <no answer> (the context is empty)")
        return
    threshold, note = resolve_threshold(a.threshold, model_path)  # note: the model cannot tell, whatever --threshold
    # fp32 on the CPU, whatever the checkpoint's dtype
    tok, model = load_qa_model(model_path, seed=0, attn_implementation=a.attn_implementation)
    check_model_fits(a, model, tok)  # the real position limit and the tokenizer's special tokens per pair
    r = answer(model, tok, [a.question], [context], a.max_seq_length, a.doc_stride, a.max_query_length,
               n_best_size=a.n_best_size, max_answer_length=a.max_answer_length,
               null_score_diff_threshold=threshold["value"],
               short_context_threshold=threshold.get("short_contexts"),
               cut_restated_question=a.cut_restated_question)[0]
    r["threshold"] = threshold
    r["settings"] = settings
    r["precision"] = "fp32"
    if note:
        r["note"] = note
    if a.json:
        print(json.dumps(r, indent=2, ensure_ascii=False))
    else:
        short = threshold.get("short_contexts")
        print(f"no-answer threshold {threshold['value']:+.3f}"
              + (f" ({short['value']:+.3f} for contexts of at most {short['max_words']} words)" if short else "")
              + f", from {threshold['source']}")
        print(describe_settings(settings))
        if note:
            print(f"note: {note}")
        print(describe(r, threshold["value"]))


if __name__ == "__main__":
    sys.exit(exit_on_user_error(main))
