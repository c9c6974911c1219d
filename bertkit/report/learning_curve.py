"""The learning curve of the laptop job: what each budget bought, from the runs' own files.

One point = one results JSON under results/learning_curve/ (a run of scripts/finetune_subset.sh at some budget)
plus the prediction files in its output folder. Per point: training windows and minutes on the machine that ran
it, F1 / HasAns F1 at the calibrated threshold, best F1 (oracle), span F1, F1 at 0, the demo's answer, and
what the calibration's noise costs: the 400 calibration questions are resampled (bootstrap, seeded) and each
resample's threshold is applied to the eval questions, for both calibration methods (bertkit.qa.scoring); beside
them, where other rules land: the calibration's answerable share, expected_gain with each answer floor of FLOORS
(--calibration_answer_floor), and the oracle (the eval questions' own best cut, which no run can use).
Nothing here runs a model; benchmarks/learning_curve.py runs the points and writes the README and plot.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from ..qa.scoring import compute_f1, cut_expected_gain, cut_max_f1, floor_value, place_cut
from ..qa.threshold_curve import find_golds
from ..results.record import REPO

BOOTSTRAP = 200  # resamples of the calibration questions per point
FLOORS = (0.6, 0.75)  # answer_floor_X: expected_gain raised by --calibration_answer_floor X
RULES = ("max_f1", "expected_gain", "answerable_share", *(f"answer_floor_{x:g}" for x in FLOORS),
         "oracle")  # calibration_study's thresholds


def _folder(d: dict, json_path: Path) -> Path:
    out = d.get("output_dir") or ""
    for p in ([Path(out)] if Path(out).is_absolute() else [REPO / out]) + [json_path.with_suffix("")]:
        if (p / "null_odds.json").is_file():
            return p
    return json_path.with_suffix("")


def _load(folder: Path, name: str) -> dict | None:
    p = folder / f"{name}.json"
    return json.loads(p.read_text()) if p.is_file() else None


def _scored(odds: dict, nonnull: dict, golds: dict):
    """(odds, answerable?, F1 of the best span) per question, in one fixed order."""
    qs = sorted(odds)
    has = [bool(golds[q][0]) for q in qs]
    f1 = [max(compute_f1(g, nonnull[q]) for g in golds[q]) if h else 0.0 for q, h in zip(qs, has)]
    return [float(odds[q]) for q in qs], has, f1


def _f1_at(t: float, odds, has, f1) -> tuple[float, float]:
    """(F1 %, HasAns F1 %) of questions answered where odds <= t."""
    tot = sum(s if x <= t else 0.0 for x, h, s in zip(odds, has, f1) if h)
    tot_all = tot + sum(1.0 for x, h in zip(odds, has) if not h and x > t)
    n_has = sum(has)
    return 100.0 * tot_all / len(odds), 100.0 * tot / n_has if n_has else 0.0


def _max_f1_value(odds, has, f1) -> float:
    order = sorted(range(len(odds)), key=lambda i: odds[i])
    xs = [odds[i] for i in order]
    cut, _ = cut_max_f1(xs, [has[i] for i in order], [f1[i] for i in order])
    return place_cut(xs, cut)


def _gain_value(odds, has, f1) -> float:
    v = cut_expected_gain(odds, has, f1)
    return _max_f1_value(odds, has, f1) if v is None else v  # as calibrate_threshold falls back


def _stats(xs: list[float]) -> dict:
    xs = sorted(xs)
    mean = sum(xs) / len(xs)
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
    return {"mean": mean, "sd": sd, "p05": xs[int(0.05 * (len(xs) - 1))], "p95": xs[int(0.95 * (len(xs) - 1))]}


def _share_value(odds, has, f1) -> float:
    """A rule that ignores the F1s: answer as many calibration questions as are answerable there (a quantile)."""
    import numpy as np
    return float(np.quantile(odds, sum(has) / len(has)))


def _floor_value(odds, has, f1, floor: float) -> float:
    """expected_gain's threshold, raised where it answers fewer than floor x the answerable ones (as the run does)."""
    return max(_gain_value(odds, has, f1), floor_value(sorted(odds), has, floor))


def calibration_study(cal: tuple, ev: tuple, seed: int = 0, n: int = BOOTSTRAP) -> dict:
    """Each method's threshold on the calibration questions and its eval F1; the same over bootstrap resamples.
    Beside them, without resamples: the answerable-share rule and the oracle (the eval questions' own best cut)."""
    import numpy as np
    rng = np.random.default_rng(seed)
    out = {}
    for name, fn in (("max_f1", _max_f1_value), ("expected_gain", _gain_value)):
        t = fn(*cal)
        f1, has_f1 = _f1_at(t, *ev)
        boot = []
        for _ in range(n):
            idx = rng.integers(0, len(cal[0]), len(cal[0]))
            boot.append(_f1_at(fn(*([c[i] for i in idx] for c in cal)), *ev)[0])
        out[name] = {"threshold": t, "f1": f1, "HasAns_f1": has_f1, "bootstrap_f1": _stats(boot)}
        rng = np.random.default_rng(seed)  # both methods see the same resamples
    floors = [(f"answer_floor_{x:g}", _floor_value(*cal, x)) for x in FLOORS]
    for name, t in (("answerable_share", _share_value(*cal)), *floors, ("oracle", _max_f1_value(*ev))):
        f1, has_f1 = _f1_at(t, *ev)
        out[name] = {"threshold": t, "f1": f1, "HasAns_f1": has_f1}
    return out


def point(json_path, with_study: bool = True) -> dict:
    """The figures of one learning-curve point (raises ValueError for a run that is not a finished point)."""
    json_path = Path(json_path)
    d = json.loads(json_path.read_text())
    m, hp, t = d.get("metrics"), d.get("hyperparameters") or {}, d.get("timing") or {}
    if not isinstance(m, dict) or "f1" not in m or not t.get("train_seconds"):
        raise ValueError(f"{json_path}: not a finished training run (no metrics or no training time)")
    tr = (d.get("data") or {}).get("train") or {}
    epochs = hp.get("num_train_epochs") or 1.0
    windows = tr.get("n_features", 0) * epochs
    demo = d.get("demo") or {}
    rt = d.get("runtime") or {}
    rec = {"name": json_path.stem, "json": json_path.name, "launched_by": d.get("launched_by") or d.get("command"),
           "seed": hp.get("seed"), "questions": tr.get("n_examples"), "unanswerable": tr.get("n_unanswerable"),
           "windows_per_epoch": tr.get("n_features"), "epochs": epochs, "windows": round(windows),
           "train_seconds": t["train_seconds"], "windows_per_second": windows / t["train_seconds"],
           "cpu": (d.get("hardware") or {}).get("cpu_model") or (d.get("hardware") or {}).get("processor"),
           "precision": rt.get("precision"), "learning_rate": hp.get("learning_rate"),
           "unanswerable_cap": hp.get("max_train_unanswerable_fraction"),
           "calibration_samples": hp.get("calibration_samples"), "calibration_method": hp.get("calibration_method"),
           "threshold": (d.get("null_threshold") or {}).get("value"),
           "f1": m["f1"], "HasAns_f1": m["HasAns_f1"], "NoAns_f1": m["NoAns_f1"], "best_f1": m.get("best_f1"),
           "span_f1": m.get("nonnull_HasAns_f1"), "f1_at_0": m.get("f1_at_0"),
           "no_answer_f1": 100.0 * m["NoAns_total"] / m["total"], "n_eval": m["total"],
           "demo_best_span": demo.get("best_span"), "demo_answer": demo.get("answer"),
           "demo_margin": demo.get("null_odds"), "demo_threshold": demo.get("threshold_used"),
           "robustness": d.get("robustness")}
    rec["vs_no_answer"] = rec["f1"] - rec["no_answer_f1"]
    rec["calibration_study"] = study(d, json_path) if with_study else None
    # Both methods, whichever the run used: calibration does not touch training, so the other method's figures
    # (from the same calibration predictions) are exactly what that run would have reported with it.
    for method in ("max_f1", "expected_gain"):
        s = (rec["calibration_study"] or {}).get(method)
        own = method == (rec["calibration_method"] or "max_f1")
        if s is None and not own:
            continue
        t = s["threshold"] if s else rec["threshold"]
        answered = rec["demo_margin"] is not None and rec["demo_margin"] <= t
        rec[method] = {"threshold": t, "f1": s["f1"] if s else rec["f1"],
                       "HasAns_f1": s["HasAns_f1"] if s else rec["HasAns_f1"],
                       "noise_sd": s["bootstrap_f1"]["sd"] if s else None,
                       "demo_answer": (rec["demo_best_span"] if answered else "") if s else rec["demo_answer"]}
        rec[method]["vs_no_answer"] = rec[method]["f1"] - rec["no_answer_f1"]
    return rec


def study(d: dict, json_path: Path) -> dict | None:
    """calibration_study from the point's files, or None with no calibration predictions (older runs)."""
    folder = _folder(d, json_path)
    files = {k: _load(folder, k) for k in ("null_odds", "nonnull_predictions", "calibration_null_odds",
                                           "calibration_nonnull_predictions")}
    if any(v is None for v in files.values()):
        return None
    ev_golds, _ = find_golds(d, files["null_odds"])
    cal_golds, _ = find_golds({k: v for k, v in d.items() if k != "data"} | {"data": {
        k: v for k, v in (d.get("data") or {}).items() if k != "eval"}}, files["calibration_null_odds"])
    if ev_golds is None or cal_golds is None:
        return None
    return calibration_study(_scored(files["calibration_null_odds"], files["calibration_nonnull_predictions"], cal_golds),
                             _scored(files["null_odds"], files["nonnull_predictions"], ev_golds))


def read_points(folder) -> tuple[list[dict], list[tuple[str, str]]]:
    """Every finished point in the folder, by training windows; (file, why) for the files that are not."""
    points, skipped = [], []
    for p in sorted(Path(folder).glob("*.json")):
        try:
            points.append(point(p))
        except (ValueError, KeyError, TypeError, OSError) as e:
            skipped.append((p.name, str(e).splitlines()[0][:200]))
    return sorted(points, key=lambda r: (r["windows"], r["name"])), skipped


def _n(v, nd=2):
    return f"{v:.{nd}f}" if isinstance(v, (int, float)) and not isinstance(v, bool) else "–"


PRIMARY = "expected_gain"  # the default --calibration_method: the curve's F1 "at the calibrated threshold"


def _m(r, key):
    return (r.get(PRIMARY) or {}).get(key)


def table(points: list[dict], link_prefix: str = "") -> str:
    """Markdown: one row per point; F1 / HasAns F1 / demo at the threshold PRIMARY calibrates (max_f1's F1 beside)."""
    head = ["point", "seed", "questions (unanswerable)", "epochs", "training windows", "training min (windows/s)",
            f"F1 at the calibrated threshold ({PRIMARY}; max_f1)", "vs \"no answer\"", "HasAns F1 there",
            "best F1 (oracle)", "span F1", "F1 at 0", "calibration noise: F1 sd", "\"no answer\" F1",
            "demo best span / answer"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in points:
        other = (r.get("max_f1") or {}).get("f1")
        rows.append("| " + " | ".join([
            f"[{r['name']}]({link_prefix}{r['json']})", str(r["seed"]), f"{r['questions']} ({r['unanswerable']})",
            f"{r['epochs']:g}", str(r["windows"]), f"{r['train_seconds'] / 60:.1f} ({r['windows_per_second']:.2f})",
            f"{_n(_m(r, 'f1'))} ({_n(other)})", f"{_m(r, 'vs_no_answer'):+.2f}" if _m(r, "f1") is not None else "–",
            _n(_m(r, "HasAns_f1")), _n(r["best_f1"]), _n(r["span_f1"]), _n(r["f1_at_0"]), _n(_m(r, "noise_sd")),
            _n(r["no_answer_f1"]), f"{r['demo_best_span']!r} / {_m(r, 'demo_answer')!r}"]) + " |")
    return "\n".join(rows)


def robust_table(points: list[dict], link_prefix: str = "") -> str:
    """Markdown: the run's paragraph F1 at its own threshold, its demo, and the short-text checks
    (bertkit.qa.robustness) as ask.py asks them (a short context at the short contexts' threshold where the run
    has one): answered / right / abstained, percent."""
    head = ["point", "seed", "precision", "training min", "F1 (vs \"no answer\")", "HasAns F1",
            "short contexts' threshold (paragraphs')", "demo answer (margin; threshold)",
            "short contexts: answered (right) / abstained", "short contexts: best span F1",
            "plain questions: answered (right) / abstained",
            "the ranking allows (oracle): short contexts answered (right) at 60 % abstained; plain at 75 %"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in points:
        rb = r.get("robustness") or {}
        sc, pq = rb.get("short_context") or {}, rb.get("plain_questions") or {}

        def rates(x):
            return f"{_n(x.get('answer_rate'))} ({_n(x.get('right_rate'))}) / {_n(x.get('abstain_rate'))}" if x else "–"

        def reach(x):  # bertkit.qa.robustness.reachable: the most answered while abstaining on the bar's share
            y = x.get("reachable")
            return f"{_n(y['answer_rate'])} ({_n(y['right_rate'])})" if y else "–"
        shown = r["demo_threshold"] if r.get("demo_threshold") is not None else r["threshold"]
        margin = f"{r['demo_margin']:+.2f}; {shown:+.2f}" if r["demo_margin"] is not None else "–"
        rows.append("| " + " | ".join([
            f"[{r['name']}]({link_prefix}{r['json']})", str(r["seed"]), str(r["precision"]),
            f"{r['train_seconds'] / 60:.1f}", f"{_n(r['f1'])} ({r['vs_no_answer']:+.2f})", _n(r["HasAns_f1"]),
            f"{_n((rb.get('short_context_threshold') or {}).get('value'))} ({_n(r['threshold'])})",
            f"{r['demo_answer']!r} ({margin})", rates(sc), _n(sc.get("best_span_f1")), rates(pq),
            f"{reach(sc)}; {reach(pq)}" if sc.get("reachable") or pq.get("reachable") else "–"]) + " |")
    return "\n".join(rows)


def rules_table(points: list[dict], link_prefix: str = "") -> str:
    """Markdown: per point with calibration files, each rule's eval F1 (vs "no answer") and HasAns F1."""
    head = ["point", "seed"] + [f"{r}: F1 (vs \"no answer\") / HasAns F1" for r in RULES]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in points:
        st = r.get("calibration_study") or {}
        if not all(k in st for k in RULES):
            continue
        rows.append("| " + " | ".join([f"[{r['name']}]({link_prefix}{r['json']})", str(r["seed"])] + [
            f"{st[k]['f1']:.2f} ({st[k]['f1'] - r['no_answer_f1']:+.2f}) / {st[k]['HasAns_f1']:.2f}"
            for k in RULES]) + " |")
    return "\n".join(rows)


def plot(points: list[dict], path) -> Path:
    """The curve (bertkit.report.plots.learning_curve): F1s against training windows, minutes on a second axis."""
    from . import plots as P
    rate = sum(r["windows"] for r in points) / sum(r["train_seconds"] for r in points)
    cpu = sorted({str(r["cpu"]) for r in points})
    shown = [{**r, "calibrated": r.get(PRIMARY) or {"f1": r["f1"], "HasAns_f1": r["HasAns_f1"]}} for r in points]
    return P.learning_curve(path, shown, rate, f"SQuAD 2.0 dev-split, MiniLM, {points[0]['n_eval']} eval questions, "
                            f"threshold calibrated by {PRIMARY}\ntraining on {', '.join(cpu)} (2 cores)")


def summary_section(results_dir) -> list[str]:
    """The learning-curve section of results/summary.md (empty without points): the plot that
    benchmarks/learning_curve.py drew, and one row per point (runs of other recipes and seeds included); the points
    with short-text checks in robust_table, which shows each run's own threshold (a run with an answer floor is
    not at expected_gain's)."""
    folder = Path(results_dir) / "learning_curve"
    points, _ = read_points(folder) if folder.is_dir() else ([], [])
    if not points:
        return []
    out = ["## Learning curve of the laptop job", "",
           "`scripts/finetune_subset.sh` at growing training budgets (and other recipes and seeds at some of them), "
           "one real run per row ([README](learning_curve/README.md), `.venv/bin/python benchmarks/learning_curve.py`).", ""]
    if (Path(results_dir) / "plots" / "learning_curve.png").is_file():
        out += ["![learning curve](plots/learning_curve.png)", ""]
    plain = [p for p in points if not p.get("robustness")]
    robust = [p for p in points if p.get("robustness")]
    out += [table(plain, "learning_curve/"), ""] if plain else []
    if robust:
        out += ["Runs with the short-text checks of issue 30, each at its own calibrated threshold (short contexts: "
                "the eval questions each with one sentence; plain questions: benchmarks/data/plain_questions.jsonl):",
                "", robust_table(robust, "learning_curve/"), ""]
    return out
