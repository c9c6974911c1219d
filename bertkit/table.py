"""Print a before/after table from a fine-tuned SQuAD results JSON (which carries its baseline).

    python -m bertkit.table results/<run>.json
"""
import json
import sys

ROWS = [("exact", "EM"), ("f1", "F1"), ("HasAns_exact", "HasAns EM"), ("HasAns_f1", "HasAns F1"),
        ("NoAns_exact", "NoAns EM"), ("nonnull_HasAns_f1", "span F1 (answerable, any threshold)"),
        ("best_exact", "best EM"), ("best_f1", "best F1"), ("best_f1_thresh", "best F1 threshold")]


def table(result: dict) -> str:
    before, after = result.get("baseline_metrics") or {}, result["metrics"]
    lines = [f"protocol: {result['protocol']} ({result.get('protocol_note') or ''})",
             f"model: {result['model']['name_or_path']}",
             f"eval questions: {after['total']} ({after['HasAns_total']} answerable, {after['NoAns_total']} unanswerable)",
             f"{'metric':<38}{'before':>10}{'after':>10}"]
    for key, name in ROWS:
        b = f"{before[key]:10.2f}" if key in before else f"{'-':>10}"
        lines.append(f"{name:<38}{b}{after[key]:10.2f}")
    no_ans = 100.0 * after["NoAns_total"] / after["total"]
    label = 'always "no answer" (EM = F1)'
    lines.append(f"{label:<38}{no_ans:10.2f}{no_ans:10.2f}")
    for label, d in (("before", result.get("demo_baseline")), ("after", result.get("demo"))):
        if d:
            lines.append(f"demo {label}: {d['question']!r} -> best span {d['best_span']!r}, "
                         f"answer {d['answer']!r}, no-answer margin {d['null_odds']:+.2f}")
    return "\n".join(lines)


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        print(table(json.load(f)))
