"""Print a before/after table from a fine-tuned results JSON (SQuAD or IMDB; it carries its baseline).

    .venv/bin/python -m bertkit.report.table results/<run>.json
"""
import json
import sys

from ..qa.scoring import abstain_note
from .rows import threshold_used

ROWS = [("exact", "EM (at the threshold used)"), ("f1", "F1 (at the threshold used)"),
        ("f1_at_0", "F1 at threshold 0"), ("HasAns_exact", "HasAns EM"), ("HasAns_f1", "HasAns F1"),
        ("NoAns_exact", "NoAns EM"), ("nonnull_HasAns_f1", "span F1 (answerable, any threshold)"),
        ("best_exact", "best EM (oracle*)"), ("best_f1", "best F1 (oracle*)"),
        ("best_f1_thresh", "best F1 threshold (oracle*)")]


def describe_threshold(result: dict) -> str:
    """The no-answer threshold a run's metrics were scored at and how it was chosen (older runs: the flag, 0.0)."""
    value, method, c = threshold_used(result)
    if method == "calibrated":
        return (f"{value:+.3f}, calibrated: F1 {c['f1']:.2f} on {c['n_questions']} questions held out of "
                f"training ('no answer' there: {c['no_answer_f1']:.2f})")
    if method == "saved":
        return f"{value:+.3f}, saved with the model ({result['null_threshold'].get('file', 'qa_threshold.json')})"
    return f"{value:+.3f}, given"


def table(result: dict) -> str:
    before, after = result.get("baseline_metrics") or {}, result["metrics"]
    before = {**before, "f1_at_0": before["f1"]} if before and "f1_at_0" not in before else before  # scored at 0
    nt = result.get("null_threshold")
    note = abstain_note(nt if isinstance(nt, dict) else None)
    lines = [f"protocol: {result['protocol']} ({result.get('protocol_note') or ''})",
             f"model: {result['model']['name_or_path']}",
             f"eval questions: {after['total']} ({after['HasAns_total']} answerable, {after['NoAns_total']} unanswerable)",
             f"no-answer threshold after: {describe_threshold(result)}; before: 0.0",
             *([f"note: {note}"] if note else []),
             f"{'metric':<38}{'before':>10}{'after':>10}"]
    for key, name in ROWS:
        if key not in after:
            continue
        b = f"{before[key]:10.2f}" if key in before else f"{'-':>10}"
        lines.append(f"{name:<38}{b}{after[key]:10.2f}")
    no_ans = 100.0 * after["NoAns_total"] / after["total"]
    label = 'always "no answer" (EM = F1)'
    lines.append(f"{label:<38}{no_ans:10.2f}{no_ans:10.2f}")
    lines.append("* oracle: the threshold is chosen on these eval questions themselves (an upper bound, not a result)")
    for label, d in (("before", result.get("demo_baseline")), ("after", result.get("demo"))):
        if d:
            lines.append(f"demo {label}: {d['question']!r} -> best span {d['best_span']!r}, "
                         f"answer {d['answer']!r}, no-answer margin {d['null_odds']:+.2f}")
    return "\n".join(lines)


def imdb_table(result: dict) -> str:
    """Before/after metrics of a classification run (run_imdb.py, run_classification.py); per-class rows for up to
    12 classes (more: the results JSON has them all)."""
    before, after = result.get("baseline_metrics") or {}, result["metrics"]
    hp = result["hyperparameters"]
    classes = list(after["per_class"])
    what = "IMDB test reviews" if result.get("task") == "imdb" else f"test texts ({len(classes)} classes)"
    lines = [f"{what}: {after['n']} | model: {result['model']['name_or_path']} | "
             f"truncation {hp['truncation']} at {hp['max_seq_length']} tokens",
             f"{'metric':<28}{'before':>10}{'after':>10}"]
    rows = [("accuracy", lambda m: m["accuracy"]), ("macro F1", lambda m: m["macro_f1"])]
    if "micro_f1" in after:
        rows.append(("micro F1", lambda m: m["micro_f1"]))
    for c in classes if len(classes) <= 12 else []:
        rows += [(f"{c[:18]} precision", lambda m, c=c: m["per_class"][c]["precision"]),
                 (f"{c[:18]} recall", lambda m, c=c: m["per_class"][c]["recall"])]
    for name, get in rows:
        b = f"{100 * get(before):10.2f}" if before else f"{'-':>10}"
        lines.append(f"{name:<28}{b}{100 * get(after):10.2f}")
    cm = after["confusion_matrix"]
    if len(classes) == 2 and "matrix" in cm:
        lines.append(f"confusion matrix after (rows true {classes[0]}/{classes[1]}, cols predicted): {cm['matrix']}")
    else:
        lines.append("confusion matrix: the results JSON (metrics.confusion_matrix) and results/summary.md's plot")
    return "\n".join(lines)


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        r = json.load(f)
    print(imdb_table(r) if r.get("task") in ("imdb", "classification") else table(r))
