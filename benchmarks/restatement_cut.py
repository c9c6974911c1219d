"""The restated-question cut (bertkit/qa/restatement.py) on the answers runs already gave: every SQuAD run's
eval predictions scored as they were and with the cut, against the official answers. No model, no torch.

    .venv/bin/python benchmarks/restatement_cut.py                      # every learning-curve point and laptop run (not the zero-shot baselines)
    .venv/bin/python benchmarks/restatement_cut.py results/learning_curve/r30_floor60_seed7.json ...

Per run: HasAns F1 and exact match of its best spans (nonnull_predictions.json: what the cut acts on), its
paragraph F1 and exact match at its calibrated threshold (predictions.json: answered or not as it ran; the cut
never moves a margin), and how many answers the cut changed; where the run recorded them, the tutorial's demo
and the plain questions' answers (robustness.plain_questions.answers) with the cut, at the thresholds it ran
with (a run with the cut calibrates on cut spans, so its thresholds may differ a little). Writes results/benchmarks/restatement_cut_<time>.json
(never overwrites).
"""
from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bertkit.data.files import data_dir, sha256_file  # noqa: E402
from bertkit.data.squad import read_squad_rows  # noqa: E402
from bertkit.errors import UserError, exit_on_user_error  # noqa: E402
from bertkit.qa.restatement import cut_restatement  # noqa: E402
from bertkit.qa.robustness import read_plain_questions  # noqa: E402
from bertkit.qa.robustness import score as score_set  # noqa: E402
from bertkit.qa.scoring import raw_scores  # noqa: E402
from bertkit.results.record import REPO, provenance, relpath, write_json_atomic  # noqa: E402

RUNS = (REPO / "results" / "learning_curve", REPO / "results")  # the learning curve's points, the laptop job's runs


def cut_text(question: str, context: str, text: str) -> str:
    """The cut applied to an answer recorded as text (any occurrence: the cut reads only the span's words)."""
    a = context.find(text) if text else -1
    if a < 0:
        return text
    s, e = cut_restatement(question, context, a, a + len(text))
    return context[s:e]


def score(rows: list[dict], preds: dict) -> dict:
    exact, f1 = raw_scores(rows, preds)  # the official per-question scores, as every run's metrics
    return {"f1": round(100 * statistics.mean(f1.values()), 4), "exact": round(100 * statistics.mean(exact.values()), 4)}


def one_run(result_json: Path, by_id: dict) -> dict | None:
    folder = result_json.with_suffix("")
    files = {k: folder / f"{k}.json" for k in ("nonnull_predictions", "predictions")}
    if not all(p.is_file() for p in files.values()):
        return None
    nonnull, preds = (json.loads(p.read_text(encoding="utf-8")) for p in files.values())
    missing = [i for i in preds if i not in by_id]
    if missing:
        raise UserError(f"{files['predictions']}: question {missing[0]} is not in the SQuAD file; pass the file "
                        "the run evaluated with --validation_file")
    rows = [by_id[i] for i in preds]
    answerable = [r for r in rows if r["answers"]["text"]]
    out = {"run": relpath(result_json), "n_questions": len(rows), "n_answerable": len(answerable)}
    for name, p in (("best_spans_hasans", nonnull), ("at_threshold", preds)):
        cut = {i: cut_text(by_id[i]["question"], by_id[i]["context"], t) for i, t in p.items()}
        on = answerable if name == "best_spans_hasans" else rows
        out[name] = {"as_run": score(on, p), "cut": score(on, cut),
                     "changed": sum(cut[r["id"]] != p[r["id"]] for r in on)}
    rec = json.loads(result_json.read_text(encoding="utf-8"))
    demo = rec.get("demo")
    if demo:
        out["demo"] = {"as_run": demo["answer"], "cut": cut_text(demo["question"], demo["context"], demo["answer"]),
                       "best_span_cut": cut_text(demo["question"], demo["context"], demo["best_span"] or "")}
    answers = (rec.get("robustness") or {}).get("plain_questions", {}).get("answers")
    if answers:
        items = read_plain_questions()
        as_run = [answers[it["id"]] for it in items]
        cut = [{k: cut_text(it["question"], it["context"], r[k]) for k in ("answer", "best_span")}
               for it, r in zip(items, as_run)]
        keys = ("answer_rate", "right_rate", "f1", "best_span_f1", "abstain_rate")
        out["plain_questions"] = {n: {k: score_set(items, res)[k] for k in keys} for n, res in (("as_run", as_run), ("cut", cut))}
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", nargs="*", help="SQuAD results JSONs whose folder holds the predictions "
                                                "(default: every learning-curve point and laptop run, not the zero-shot baselines)")
    p.add_argument("--validation_file", default=str(data_dir() / "squad_v2" / "dev-v2.0.json.gz"))
    p.add_argument("--output", default=None)
    a = p.parse_args(argv)
    runs = [Path(x) for x in a.results] or [f for d in RUNS for f in sorted(d.glob("*.json"))
                                             if d.name == "learning_curve"
                                             or ("squad" in f.name and not f.stem.endswith("_baseline"))]
    rows = read_squad_rows(a.validation_file)
    by_id = {r["id"]: r for r in rows}
    per_run = [r for r in (one_run(x, by_id) for x in runs) if r is not None]
    if not per_run:
        raise UserError("no run given has nonnull_predictions.json and predictions.json beside its JSON; give "
                        "results/<run>.json files of SQuAD runs")
    diff = {}
    for part in ("best_spans_hasans", "at_threshold"):
        for k in ("f1", "exact"):
            d = [r[part]["cut"][k] - r[part]["as_run"][k] for r in per_run]
            diff[f"{part}.{k}"] = {"mean": round(statistics.mean(d), 4), "min": round(min(d), 4),
                                   "max": round(max(d), 4), "higher": sum(x > 0 for x in d),
                                   "lower": sum(x < 0 for x in d)}
    rec = {"what": "the restated-question cut on recorded predictions (benchmarks/restatement_cut.py)",
           "data": {"validation_file": a.validation_file, "sha256": sha256_file(a.validation_file),
                    "n_questions_in_file": len(rows)},
           "n_runs": len(per_run), "difference_cut_minus_as_run": diff, "runs": per_run, **provenance()}
    stamp = datetime.datetime.now().strftime("%Y%m%d_%H%M%S")
    out = Path(a.output) if a.output else REPO / "results" / "benchmarks" / f"restatement_cut_{stamp}.json"
    if out.exists():
        raise UserError(f"{out} exists; pass another --output")
    write_json_atomic(out, rec)
    for r in per_run:
        if "demo" in r or "plain_questions" in r:
            pq = r.get("plain_questions", {})
            right = " -> ".join(f"{pq[n]['right_rate']}" for n in ("as_run", "cut")) if pq else "-"
            demo = f"{r['demo']['as_run']!r} -> {r['demo']['cut']!r}" if "demo" in r else "-"
            print(f"{r['run']}: demo {demo}; plain questions right {right}")
    for key, v in diff.items():
        print(f"{key}: cut - as run, mean {v['mean']:+.3f} (min {v['min']:+.3f}, max {v['max']:+.3f}; "
              f"{v['higher']} higher, {v['lower']} lower of {len(per_run)})")
    print(f"wrote {relpath(out)}")


if __name__ == "__main__":
    exit_on_user_error(main)
