"""The summary's plots: PNG files of a fixed size (800 x 500 px), drawn headless with matplotlib's Agg.

Each function takes plain numbers (bertkit.report.summary extracts them from the results JSONs) and writes one PNG
atomically. The same numbers give the same bytes (no software/date metadata), so regenerating the plots of
committed runs changes nothing in git.
"""
from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: servers, CI, ssh sessions
import matplotlib.pyplot as plt  # noqa: E402

WIDTH, HEIGHT, DPI = 800, 500, 100  # pixels; tests check them
BEFORE, AFTER, REF = "#9aa5b1", "#1f77b4", "#d62728"  # grey = before fine-tuning, blue = after, red = reference
plt.rcParams.update({"font.size": 10, "axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False,
                     "axes.spines.right": False})


def _figure(ncols=1):
    fig, axes = plt.subplots(1, ncols, figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI, layout="constrained")
    return fig, axes


def save(fig, path) -> Path:
    """Write the figure as PNG via a temp file + rename: a crash never leaves half an image."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})  # no version stamp: stable bytes
    plt.close(fig)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(buf.getvalue())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _bar_labels(ax, bars, fmt="{:.1f}"):
    for b in bars:
        ax.annotate(fmt.format(b.get_height()), (b.get_x() + b.get_width() / 2, b.get_height()),
                    ha="center", va="bottom", fontsize=8, xytext=(0, 2), textcoords="offset points")


def loss(path, steps, losses, title, epoch_metrics=None):
    """Training loss per logged step; beside it, metrics per epoch ({name: [(epoch, value %)]}) if any."""
    fig, axes = _figure(2 if epoch_metrics else 1)
    ax = axes[0] if epoch_metrics else axes
    ax.plot(steps, losses, marker="o", markersize=3, color=AFTER)
    ax.set(xlabel="training step (optimizer updates)", ylabel="training loss (cross-entropy, nats)")
    ax.set_ylim(bottom=0)
    if epoch_metrics:
        ax.set_title("training loss")
        ax2 = axes[1]
        for name, points in epoch_metrics.items():
            ax2.plot([e for e, _ in points], [v for _, v in points], marker="o", label=name)
        ax2.set(xlabel="epoch", ylabel="score (%)", title="evaluation after each epoch")
        ax2.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))  # epochs are whole numbers
        ax2.legend()
        fig.suptitle(title, fontsize=10)
    else:
        ax.set_title(title)
    return save(fig, path)


def before_after(path, names, before, after, title, reference=None, reference_label=None, ylabel="score (%)"):
    """Grouped bars, before (None: no baseline) vs after, with an optional horizontal reference line."""
    fig, ax = _figure()
    x = range(len(names))
    w = 0.38 if before is not None else 0.6
    if before is not None:
        _bar_labels(ax, ax.bar([i - w / 2 for i in x], before, w, color=BEFORE, label="before fine-tuning"))
        _bar_labels(ax, ax.bar([i + w / 2 for i in x], after, w, color=AFTER, label="after fine-tuning"))
    else:
        _bar_labels(ax, ax.bar(list(x), after, w, color=AFTER, label="this run"))
    if reference is not None:
        ax.axhline(reference, color=REF, linestyle="--", linewidth=1.2, label=f"{reference_label} ({reference:.1f})")
    ax.set_xticks(list(x), names)
    ax.set(ylabel=ylabel, ylim=(0, 118), yticks=range(0, 101, 20), title=title)
    ax.legend(loc="upper center", ncol=3, fontsize=8)  # in the band above 100, clear of the bars
    return save(fig, path)


def threshold(path, thresholds, f1, exact, marks, no_answer, title):
    """F1 and EM against the no-answer threshold; marks: [(label, threshold)] drawn as vertical lines."""
    fig, ax = _figure()
    # the bulk of the questions, and every marked threshold (a question with no span at all has odds near 1e9)
    xs = thresholds[1:] or thresholds
    lo, hi = xs[int(0.01 * (len(xs) - 1))], xs[int(0.99 * (len(xs) - 1))]
    lo, hi = min([lo] + [t for _, t in marks]), max([hi] + [t for _, t in marks])
    pad = 0.05 * (hi - lo or 1.0)
    ax.set_xlim(lo - pad, hi + pad)
    # each score holds from its threshold up to the next: drawn out to both edges of the plot
    ts = [min(thresholds[0], lo - pad), *thresholds[1:], max(thresholds[-1], hi + pad)]
    ax.step(ts, [f1[0], *f1[1:], f1[-1]], where="post", color=AFTER, label="F1")
    ax.step(ts, [exact[0], *exact[1:], exact[-1]], where="post", color="#2ca02c", label="EM")
    ax.axhline(no_answer, color=REF, linestyle="--", linewidth=1.2, label=f'"no answer" everywhere ({no_answer:.1f})')
    styles = [":", "-.", "--", (0, (1, 3))]
    for (label, t), style in zip(marks, styles):
        ax.axvline(t, color="black", linestyle=style, linewidth=1, label=label)
    ax.set(xlabel="no-answer threshold t (no answer where null score - best span score > t)", ylabel="score (%)",
           ylim=(0, 105), title=title)
    ax.legend(loc="best", fontsize=8)
    return save(fig, path)


def confusion(path, matrices, labels, title):
    """Confusion matrices side by side ({"before": [[...]], "after": [[...]]}), counts in the cells; beyond 8
    classes the cells' shade alone (numbers would not fit) and small, numbered tick labels."""
    many = len(labels) > 8
    fig, axes = _figure(len(matrices))
    axes = axes if len(matrices) > 1 else [axes]
    for ax, (name, m) in zip(axes, matrices.items()):
        ax.imshow(m, cmap="Blues", vmin=0, vmax=max(max(r) for r in m) or 1)
        ax.grid(False)
        total = sum(map(sum, m)) or 1
        for i, row in enumerate(m if not many else []):
            for j, v in enumerate(row):
                ax.text(j, i, f"{v}\n({100 * v / total:.1f}%)", ha="center", va="center",
                        color="white" if v > 0.6 * max(max(r) for r in m) else "black")
        if many:  # the x axis by class number, the y axis by number and name
            ax.set_xticks(range(len(labels)), [str(i) for i in range(len(labels))], fontsize=4)
            ax.set_yticks(range(len(labels)), [f"{i} {n[:16]}" for i, n in enumerate(labels)], fontsize=4)
        else:
            ax.set_xticks(range(len(labels)), labels)
            ax.set_yticks(range(len(labels)), labels)
        ax.set(xlabel="predicted label", ylabel="true label", title=name)
    fig.suptitle(title, fontsize=10)
    return save(fig, path)


def ratios(path, names, values, details, title):
    """Speed-up bars (ours / padded), with 1.0 (no gain) as the reference and the raw figures below each bar."""
    fig, ax = _figure()
    bars = ax.bar(range(len(names)), values, 0.5, color=AFTER)
    _bar_labels(ax, bars, "{:.2f}x")
    ax.axhline(1.0, color=REF, linestyle="--", linewidth=1.2, label="1.0 = no faster than padded")
    ax.set_xticks(range(len(names)), [f"{n}\n{d}" for n, d in zip(names, details)], fontsize=8)
    ax.set(ylabel="speed-up (ours / padded, x)", ylim=(0, max(values + [1.0]) * 1.2), title=title)
    ax.legend(loc="upper right", fontsize=8)
    return save(fig, path)


def learning_curve(path, points, rate, title):
    """F1s of the learning-curve points against training windows, with minutes of training (at `rate`
    windows/s, this machine's) on a second axis. Each point: {"seed", "windows", "best_f1", "span_f1",
    "no_answer_f1", "calibrated": {"f1", "HasAns_f1", "noise_sd"}}. The first seed's points are joined by lines;
    other seeds' are hollow markers; "no answer" everywhere (the first seed's eval questions) is the dashed line."""
    fig, ax = _figure()
    seeds = []
    for p in points:
        if p["seed"] not in seeds:
            seeds.append(p["seed"])
    series = [("f1", "F1 at the calibrated threshold", AFTER), ("HasAns_f1", "HasAns F1 there", "#9467bd"),
              ("best_f1", "best F1 (oracle)", "#2ca02c"), ("span_f1", "span F1 (answerable)", "#ff7f0e")]
    get = {"f1": lambda p: p["calibrated"]["f1"], "HasAns_f1": lambda p: p["calibrated"]["HasAns_f1"],
           "best_f1": lambda p: p["best_f1"], "span_f1": lambda p: p["span_f1"]}
    main = sorted((p for p in points if p["seed"] == seeds[0]), key=lambda p: p["windows"])
    others = [p for p in points if p["seed"] != seeds[0]]
    for key, label, color in series:
        xs, ys = [p["windows"] for p in main], [get[key](p) for p in main]
        if key == "f1":  # the calibration's noise: one bootstrap sd of the F1 its threshold gives
            ax.errorbar(xs, ys, yerr=[p["calibrated"].get("noise_sd") or 0.0 for p in main], marker="o",
                        color=color, label=label, capsize=3)
        else:
            ax.plot(xs, ys, marker="o", color=color, label=label)
        if others:
            ax.scatter([p["windows"] for p in others], [get[key](p) for p in others], facecolors="none",
                       edgecolors=color, zorder=3)
    ref = next(p["no_answer_f1"] for p in points if p["seed"] == seeds[0])
    ax.axhline(ref, color=REF, linestyle="--", linewidth=1.2, label=f'"no answer" everywhere ({ref:.1f})')
    ax.axhline(ref + 2, color=REF, linestyle=":", linewidth=1, label='"no answer" + 2')
    ax.set(xlabel="training windows (256 tokens at most)", ylabel="score (%)", ylim=(0, 80), title=title)
    top = ax.secondary_xaxis("top", functions=(lambda w: w / rate / 60, lambda m: m * rate * 60))
    top.set_xlabel(f"minutes of training on this machine (at {rate:.1f} windows/s)")
    note = f"seed {seeds[0]}: lines" + (f"; seeds {', '.join(map(str, seeds[1:]))}: hollow markers" if seeds[1:] else "")
    ax.legend(loc="lower right", fontsize=8, title=note, title_fontsize=8)
    return save(fig, path)
