"""Classify a movie review as positive or negative with any sentiment model folder (e.g. a run_imdb.py output).

    .venv/bin/python classify.py --model results/imdb_subset_head_tail_<time> --text "A wonderful, moving film."
    .venv/bin/python classify.py --model results/imdb_subset_head_tail_<time> --text_file review.txt
"""
import argparse
import json
import logging

from bertkit.data.files import read_text
from bertkit.errors import UserError, exit_on_user_error
from bertkit.classify.encode import classify_text
from bertkit.train.modeling import check_length, load_classifier, resolve_model


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="model folder (a run's output_dir) or hub id")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--text")
    g.add_argument("--text_file")
    p.add_argument("--max_seq_length", type=int, default=256)
    p.add_argument("--truncation", default="head_tail", choices=["head", "head_tail"])
    p.add_argument("--attn_implementation", default="auto",
                   help="attention kernel: auto (what the model supports: sdpa, else eager), sdpa or eager")
    a = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    text = read_text(a.text_file, "--text_file") if a.text_file else a.text  # UTF-8; clear errors for bad files
    if not text.strip():
        raise UserError("the review is empty; pass --text '...' or a --text_file with the review")
    if a.max_seq_length < 8:
        raise UserError(f"--max_seq_length {a.max_seq_length}: give at least 8 tokens (256 is the default)")
    # fp32 on the CPU whatever dtype the checkpoint was saved in (bf16 matmuls are slow and lossy on CPUs)
    tok, model = load_classifier(resolve_model(a.model), seed=0, attn_implementation=a.attn_implementation)
    check_length(a.max_seq_length, model)
    model.eval()
    print(json.dumps(classify_text(model, tok, text, a.max_seq_length, a.truncation)))

if __name__ == "__main__":
    exit_on_user_error(main)
