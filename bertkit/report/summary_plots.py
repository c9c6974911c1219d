"""Which plots each run of the summary gets (training loss, before vs after, F1 and EM against the no-answer
threshold, confusion matrices, speed-ups), drawn with bertkit.report.plots under results/plots/<run>/."""
from __future__ import annotations

from pathlib import Path

from .rows import DASH, Run, baseline, benchmark_ratios, dig, is_num, no_answer_f1, threshold_used


def _loss_points(d):
    log = d.get("loss_log") if isinstance(d.get("loss_log"), list) else []
    pts = [(r["step"], r["loss"]) for r in log if isinstance(r, dict) and is_num(r.get("step")) and is_num(r.get("loss"))]
    return [s for s, _ in pts], [v for _, v in pts]


def _epoch_metrics(d) -> dict:
    """{name: [(epoch, %)]} from a per-epoch evaluation log (IMDB's validation_log; any list of such dicts)."""
    out = {}
    for key in ("validation_log", "eval_log"):
        for r in d.get(key) if isinstance(d.get(key), list) else []:
            if not isinstance(r, dict) or not is_num(r.get("epoch")):
                continue
            for k, v in r.items():
                if k not in ("epoch", "step") and is_num(v):
                    scale = 100 if k in ("accuracy", "macro_f1") else 1  # fractions shown as %
                    out.setdefault(f"validation {k.replace('_', ' ')}", []).append((r["epoch"], scale * v))
    return out


def _plot_loss(P, run: Run, folder: Path):
    steps, losses = _loss_points(run.data)
    if steps:
        yield "training loss", P.loss(folder / "loss.png", steps, losses, f"training loss\n{run.name}",
                                      _epoch_metrics(run.data))


def _plot_squad(P, run: Run, folder: Path, results_dir: Path):
    d, m, b = run.data, run.data["metrics"], baseline(run.data)
    value, method, _ = threshold_used(d)
    n = m.get("total")
    yield from _plot_loss(P, run, folder)
    names = [("exact", "EM"), ("f1", "F1"), ("HasAns_exact", "HasAns EM"), ("HasAns_f1", "HasAns F1"),
             ("NoAns_exact", "NoAns EM = F1"), ("nonnull_HasAns_f1", "span F1"), ("best_f1", "best F1 (oracle)")]
    keep = [(k, label) for k, label in names if is_num(m.get(k)) and (b is None or is_num(b.get(k)))]
    yield "before vs after", P.before_after(
        folder / "before_after.png", [label for _, label in keep], [b[k] for k, _ in keep] if b else None,
        [m[k] for k, _ in keep], f"SQuAD 2.0, {n} eval questions, no-answer threshold {value:.2f} ({method})\n{run.name}",
        no_answer_f1(m), '"no answer" everywhere')
    from ..qa.threshold_curve import run_curve, value_at
    curve, why = run_curve(d, results_dir)
    if curve is None:
        kept = folder / "threshold.png"
        if kept.is_file():  # drawn where the predictions were (a committed plot of a run whose folder git skips)
            run.notes.append(f"threshold plot not redrawn ({why}): the one drawn earlier is kept")
            yield "F1 and EM vs the no-answer threshold", kept
            return
        run.notes.append(f"threshold plot skipped: {why}")
        return
    # the curve's own best (the official search reports 0.0 as best_f1_thresh when answering nothing wins)
    best_t = curve["thresholds"][curve["f1"].index(max(curve["f1"]))]
    if is_num(m.get("best_f1")) and abs(max(curve["f1"]) - m["best_f1"]) > 1e-6:
        run.notes.append(f"threshold curve's maximum F1 {max(curve['f1']):.2f} differs from the run's best_f1 "
                         f"{m['best_f1']:.2f}: the gold answers found may not be the ones it was scored on")
    marks = [(f"0 (F1 {value_at(curve, 'f1', 0.0):.1f})", 0.0)]
    if value != 0.0:
        marks.append((f"{method}: {value:.2f} (F1 {value_at(curve, 'f1', value):.1f})", value))
    marks.append((f"best: {best_t:.2f} (F1 {value_at(curve, 'f1', best_t):.1f})", best_t))
    yield "F1 and EM vs the no-answer threshold", P.threshold(
        folder / "threshold.png", curve["thresholds"], curve["f1"], curve["exact"], marks, no_answer_f1(m) or 0.0,
        f"F1 and EM against the no-answer threshold, {n} eval questions\n{run.name}")


def _plot_imdb(P, run: Run, folder: Path, results_dir: Path):
    """Loss, before-vs-after bars (per-class precision/recall for 2 classes), the confusion matrices (multi-label:
    one 2x2 matrix per label would not read as one figure; the JSON has them)."""
    m, b = run.data["metrics"], baseline(run.data)
    yield from _plot_loss(P, run, folder)
    classes = list(m.get("per_class") or {})
    getters = [("accuracy", lambda x: x.get("accuracy")), ("macro F1", lambda x: x.get("macro_f1"))]
    for c in classes if len(classes) == 2 else []:
        for k in ("precision", "recall"):
            getters.append((f"{c[:3]}. {k}", lambda x, c=c, k=k: dig(x, "per_class", c, k)))
    keep = [(label, g) for label, g in getters if is_num(g(m)) and (b is None or is_num(g(b)))]
    support = [dig(m, "per_class", c, "support") for c in classes]
    majority = (100.0 * max(support) / sum(support) if support and all(is_num(s) for s in support) and sum(support)
                and "micro_f1" not in m else None)
    what = "IMDB" if run.data.get("task") == "imdb" else f"{len(classes)} classes"
    yield "before vs after", P.before_after(
        folder / "before_after.png", [label for label, _ in keep], [100 * g(b) for _, g in keep] if b else None,
        [100 * g(m) for _, g in keep], f"{what}, {m.get('n', DASH)} test {'reviews' if what == 'IMDB' else 'texts'}\n{run.name}", majority,
        "always the majority class")
    matrices = {}
    for label, x in (("before fine-tuning", b), ("after fine-tuning", m)):
        cm = dig(x, "confusion_matrix", "matrix") if x else None
        if isinstance(cm, list) and cm and all(isinstance(r, list) and all(is_num(v) for v in r) for r in cm):
            matrices[label] = cm
    if matrices:
        labels = dig(m, "confusion_matrix", "labels", default=["negative", "positive"])
        yield "confusion matrix", P.confusion(folder / "confusion.png", matrices, labels,
                                              f"test {'reviews' if what == 'IMDB' else 'texts'}, true vs predicted "
                                              f"label\n{run.name}")


def _plot_benchmark(P, run: Run, folder: Path, results_dir: Path):
    ratios = benchmark_ratios(run.data)
    yield "speed-up", P.ratios(folder / "speedup.png", [k for k, _, _ in ratios], [r for _, r, _ in ratios],
                               [w for _, _, w in ratios], f"ours vs padded batches\n{run.name}")


PLOTTERS = {"squad": _plot_squad, "imdb": _plot_imdb, "classification": _plot_imdb, "benchmark": _plot_benchmark}


def make_plots(run: Run, results_dir: Path, P):
    """Draw the run's plots; a failing plot is a note, never the end of the summary. PNGs left in the run's
    plots folder from an earlier version of these plots are removed."""
    plotter = PLOTTERS.get(run.section)
    if plotter is None:
        return
    folder = results_dir / "plots" / run.name
    written = set()
    try:
        for caption, path in plotter(P, run, folder, results_dir):
            written.add(path.name)
            run.plots.append((caption, path.relative_to(results_dir).as_posix()))
    except Exception as e:  # one plot's trouble must not cost the summary
        run.notes.append(f"plots stopped: {type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}")
        return  # what an earlier, complete pass drew is kept
    for stale in folder.glob("*.png") if folder.is_dir() else []:
        if stale.name not in written:  # a plot this run no longer gets (its summary would not link it)
            stale.unlink()
