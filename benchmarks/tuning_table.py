"""The recipe-search table: one markdown row per results/tuning/*.json (numbers straight from the JSONs).

    .venv/bin/python benchmarks/tuning_table.py [results/tuning]
"""
import json
import sys
from pathlib import Path

RECIPE = ["learning_rate", "max_train_samples", "max_train_unanswerable_fraction", "late_no_answer_share",
          "freeze_word_embeddings", "freeze_layers", "head_learning_rate", "max_seq_length", "doc_stride",
          "per_device_train_batch_size", "num_train_epochs", "lr_scheduler_type", "seed"]


def _v(x):
    return None if x is False else x  # older runs lack the newer flags: absent = off


def row(path: Path, base: dict | None) -> str:
    """base: the first run's hyperparameters; the others show only what they change."""
    r = json.loads(path.read_text())
    m, hp, t = r["metrics"], r["hyperparameters"], r.get("null_threshold") or {}
    cal = t.get("calibration") or {}
    no_answer = 100 * m["NoAns_total"] / m["total"]
    if base is None:
        recipe = ", ".join(f"{k}={hp[k]}" for k in RECIPE if hp.get(k) not in (None, False))
    else:
        recipe = "as the first row, but " + (", ".join(f"{k}={hp.get(k)}" for k in RECIPE if _v(hp.get(k)) != _v(base.get(k)))
                                              or "nothing")
    d = r.get("demo") or {}
    return (f"| {path.stem} | {recipe} | {r['data']['train']['n_features']} | {r['timing']['train_seconds']:.0f} | "
            f"{m['f1']:.2f} | {m['f1'] - no_answer:+.2f} | {t.get('value', 0):.2f} ({cal.get('f1', float('nan')):.2f} "
            f"vs {cal.get('no_answer_f1', float('nan')):.2f}) | {m.get('f1_at_0', m['f1']):.2f} | {m['best_f1']:.2f} | "
            f"{m['nonnull_HasAns_f1']:.2f} | {no_answer:.2f} | {d.get('best_span')!r} / {d.get('answer')!r} |")


def main(folder="results/tuning"):
    print("| run | recipe | train windows | train s | "
          "F1 at calibrated threshold | vs \"no answer\" | threshold (calibration F1 vs its \"no answer\") | "
          "F1 at 0 | best F1 (oracle) | span F1 | \"no answer\" F1 | demo best span / answer |")
    print("|" + "---|" * 12)
    base = None
    for p in sorted(Path(folder).glob("*.json")):
        print(row(p, base))
        base = base or json.loads(p.read_text())["hyperparameters"]


if __name__ == "__main__":
    main(*sys.argv[1:])
