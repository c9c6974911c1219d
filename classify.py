"""Classify a text with a model folder of run_imdb.py or run_classification.py: its label by name, with probabilities.

    .venv/bin/python classify.py --model results/imdb_subset_head_tail_<time> --text "A wonderful, moving film."
    .venv/bin/python classify.py --model results/imdb_subset_head_tail_<time> --text_file review.txt
    .venv/bin/python classify.py --model outputs/pairs --text "Who wrote it?" --text_pair "It was written by ..."
"""
import argparse
import json
import logging
import sys

from bertkit.data.files import read_text
from bertkit.errors import UserError, exit_on_user_error
from bertkit.classify.arguments import TRUNCATIONS, DataArguments
from bertkit.classify.encode import classify_text, is_multi_label
from bertkit.train.model_settings import (CLASSIFY_KEYS, PAIR_KEY, dataclass_defaults, describe_settings,
                                          read_model_settings, resolve_settings)
from bertkit.train.modeling import check_length, load_classifier, resolve_model


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="model folder (a run's output_dir) or hub id")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--text")
    g.add_argument("--text_file")
    p.add_argument("--text_pair", help="the second text, for a model trained with --text_pair_column")
    d = dataclass_defaults(DataArguments, CLASSIFY_KEYS)  # run_imdb.py's defaults, shown, never retyped
    saved = "default: the model folder's bertkit.json, else"
    p.add_argument("--max_seq_length", type=int, default=None, help=f"tokens per review ({saved} {d['max_seq_length']})")
    p.add_argument("--truncation", default=None, choices=TRUNCATIONS,
                   help=f"head: the first tokens, head_tail: the first and last ({saved} {d['truncation']})")
    p.add_argument("--multi_label_threshold", type=float, default=None,
                   help=f"a multi-label model's cut: labels at or above it ({saved} {d['multi_label_threshold']})")
    p.add_argument("--attn_implementation", default="auto",
                   help="attention kernel: auto (what the model supports: sdpa, else eager), sdpa or eager")
    a = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    text = read_text(a.text_file, "--text_file") if a.text_file else a.text  # UTF-8; clear errors for bad files
    if not text.strip():
        raise UserError("the text is empty; pass --text '...' or a --text_file with the text")
    model_path = resolve_model(a.model)
    settings = resolve_settings(model_path, "text-classification", vars(a), d)  # as trained, unless a flag says
    length, truncation, threshold = (settings[k]["value"] for k in CLASSIFY_KEYS)
    pair = read_model_settings(model_path, "text-classification").get(PAIR_KEY)
    if bool(pair) != (a.text_pair is not None):
        raise UserError(f"this model was trained on text pairs ({pair!r} the second): pass --text_pair '...'" if pair
                        else "this model reads single texts: leave out --text_pair")
    if a.text_pair is not None and not a.text_pair.strip():
        raise UserError("--text_pair is empty; pass the second text")
    if length < 8:
        raise UserError(f"--max_seq_length {length} (from {settings['max_seq_length']['source']}): give at least 8 "
                        f"tokens ({d['max_seq_length']} is the default)")
    if truncation not in TRUNCATIONS:
        raise UserError(f"--truncation {truncation!r} (from {settings['truncation']['source']}): give head or head_tail")
    # fp32 on the CPU whatever dtype the checkpoint was saved in (bf16 matmuls are slow and lossy on CPUs)
    tok, model = load_classifier(model_path, seed=0, attn_implementation=a.attn_implementation)
    check_length(length, model)
    model.eval()
    if not is_multi_label(model):  # a single-label model has no threshold to speak of
        settings.pop("multi_label_threshold")
    elif not 0 < threshold < 1:
        raise UserError(f"--multi_label_threshold {threshold}: give a probability between 0 and 1")
    print(describe_settings(settings), file=sys.stderr)  # stdout stays the result alone: one JSON object
    print(json.dumps(classify_text(model, tok, text, length, truncation, a.text_pair, threshold)))

if __name__ == "__main__":
    exit_on_user_error(main)
