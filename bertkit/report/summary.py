"""results/summary.md: every run in the results folder, one row each, key metrics before -> after, with links
to the run's JSON and to its plots (bertkit.plots, PNGs under results/plots/<run>/).

    python -m bertkit.summary [--results results] [--run <run name>] [--no_plots]

Reads results/*.json, results/benchmarks/*.json, results/gpu_check/*.json and results/tuning/*.json. A file it
cannot read, a run of unknown format and a partial run (no metrics) are listed under "Skipped" with the reason:
one run's odd or old format never stops the others. Every number shown is its JSON's, rounded to 2 decimals.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .report import write_text_atomic
from .scoring import abstain_note

FOLDERS = ("", "benchmarks", "gpu_check", "tuning")  # under the results folder; not the runs' own folders
ARROW, DASH = " → ", "–"


class Partial(Exception):
    """A run that stopped before writing what its row needs."""


@dataclass
class Run:
    name: str     # the JSON's path under the results folder without .json; also its plots folder's name
    link: str     # the JSON, relative to summary.md
    section: str
    data: dict
    cells: dict = field(default_factory=dict)
    plots: list = field(default_factory=list)   # (caption, PNG path relative to summary.md)
    notes: list = field(default_factory=list)


# ---- reading fields of any age --------------------------------------------------------------------------------
def dig(d, *keys, default=None):
    """d[k1][k2]...; `default` wherever a level is missing or of another type (old formats)."""
    for k in keys:
        if isinstance(d, dict) and k in d:
            d = d[k]
        else:
            return default
    return default if d is None else d


def is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def num(v, nd=2) -> str:
    return f"{v:.{nd}f}" if is_num(v) else DASH


def pct(v) -> str:  # fractions (IMDB) shown as % like every other score here
    return num(100 * v) if is_num(v) else DASH


def before_after(before: dict | None, after: dict, key, fmt=num) -> str:
    """'before → after'; the after value alone when the run has no baseline."""
    return fmt(after.get(key)) if before is None else f"{fmt(before.get(key))}{ARROW}{fmt(after.get(key))}"


def count(v) -> str:
    return str(v) if isinstance(v, int) and not isinstance(v, bool) else DASH


def duration(seconds) -> str:
    if not is_num(seconds):
        return DASH
    s = round(seconds)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def model_name(m) -> str:
    if isinstance(m, str):
        return Path(m).name or m
    if not isinstance(m, dict):
        return DASH
    name = m.get("package") or m.get("description") or m.get("name_or_path") or DASH
    if isinstance(name, str) and "==" in name:
        name = name.split("==")[0]  # the offline MiniLM's package name says what it is
    elif isinstance(name, str) and name.startswith("/"):
        name = Path(name).name
    n = m.get("n_parameters")
    return f"{name} ({n / 1e6:.1f}M)" if is_num(n) else str(name)


def hardware(d) -> str:
    hw = d.get("hardware") if isinstance(d.get("hardware"), dict) else {}
    gpus = hw.get("gpus") if isinstance(hw.get("gpus"), list) else []
    if gpus:
        names = sorted(set(map(str, gpus)))
        return f"{len(gpus)} x {names[0]}" if len(names) == 1 else ", ".join(names)
    if is_num(hw.get("cpu_count")):
        return f"CPU, {hw['cpu_count']} cores"
    return DASH


def date(d, name) -> str:
    c = d.get("created")
    if isinstance(c, str) and re.match(r"\d{4}-\d\d-\d\d", c):
        return c[:10]
    m = re.search(r"(\d{4})(\d\d)(\d\d)_\d{6}", name)  # runs are named <what>_YYYYmmdd_HHMMSS
    return f"{m[1]}-{m[2]}-{m[3]}" if m else DASH


def wall_time(d) -> str:
    """The run's measured steps (preprocessing, training, evaluation, ...) summed: *_seconds in timing."""
    t = d.get("timing") if isinstance(d.get("timing"), dict) else {}
    secs = [v for k, v in t.items() if k.endswith("_seconds") and is_num(v)]
    return duration(sum(secs)) if secs else DASH


def epochs(d) -> str:
    v = dig(d, "hyperparameters", "num_train_epochs")
    return f"{v:g}" if is_num(v) and (d.get("loss_log") or dig(d, "timing", "train_seconds")) else DASH


# ---- one row per kind of run ----------------------------------------------------------------------------------
def section_of(d: dict) -> str | None:
    task, m = d.get("task"), d.get("metrics")
    if task == "squad_v2" or (task is None and isinstance(m, dict) and "exact" in m):
        return "squad"
    if task == "imdb" or (task is None and isinstance(m, dict) and "accuracy" in m):
        return "imdb"
    if task == "gpu_check":
        return "gpu_check"
    if "benchmark" in d or (isinstance(task, str) and task.startswith("benchmark")):
        return "benchmark"
    return None


def threshold_used(d) -> tuple[float, str, dict | None]:
    """(value, how it was chosen, calibration record): null_threshold where the run has it, else the flag."""
    nt = d.get("null_threshold")
    if isinstance(nt, dict) and is_num(nt.get("value")):
        cal = nt.get("calibration")
        return float(nt["value"]), str(nt.get("method") or "given"), cal if isinstance(cal, dict) else None
    v = dig(d, "hyperparameters", "null_score_diff_threshold")
    return (float(v), "given", None) if is_num(v) else (0.0, "default", None)


def f1_at_zero(d):
    return dig(d, "metrics_at_zero", "f1", default=dig(d, "metrics", "f1_at_0"))


def no_answer_f1(m: dict):
    t, n = m.get("total"), m.get("NoAns_total")
    return 100.0 * n / t if is_num(t) and is_num(n) and t else None


def squad_cells(d: dict) -> dict:
    m = d.get("metrics")
    if not isinstance(m, dict) or not is_num(m.get("f1")):
        raise Partial("partial run: no SQuAD metrics (stopped before evaluating?)")
    b = d.get("baseline_metrics") if isinstance(d.get("baseline_metrics"), dict) else None
    value, method, cal = threshold_used(d)
    thr = f"{num(value)} ({method}"
    if cal and isinstance(cal.get("n_questions"), int):
        thr += f" on {cal['n_questions']} questions"
    thr += ")"
    if is_num(f1_at_zero(d)) and value != 0.0:
        thr += f"; F1 at 0: {num(f1_at_zero(d))}"
    if abstain_note(d.get("null_threshold") if isinstance(d.get("null_threshold"), dict) else None):
        thr += "; abstains everywhere: did not learn which questions have no answer"
    kind = d.get("kind") or ("fine-tuned" if d.get("loss_log") else "evaluated")
    return {"kind": str(kind), "protocol": str(d.get("protocol") or dig(d, "data", "protocol", default=DASH)),
            "model": model_name(d.get("model")),
            "train / eval questions": f"{count(dig(d, 'data', 'train', 'n_examples'))} / "
                                      f"{count(dig(d, 'data', 'eval', 'n_examples', default=m.get('total')))}",
            "epochs": epochs(d), "hardware": hardware(d), "wall time": wall_time(d), "no-answer threshold": thr,
            "EM": before_after(b, m, "exact"), "F1": before_after(b, m, "f1"),
            "span F1": before_after(b, m, "nonnull_HasAns_f1"), "best F1": before_after(b, m, "best_f1"),
            '"no answer" F1': num(no_answer_f1(m))}


def imdb_cells(d: dict) -> dict:
    m = d.get("metrics")
    if not isinstance(m, dict) or not is_num(m.get("accuracy")):
        raise Partial("partial run: no test metrics (stopped early, or run without --do_predict)")
    b = d.get("baseline_metrics") if isinstance(d.get("baseline_metrics"), dict) else None
    c = dig(d, "data", "counts", default={})
    hp = d.get("hyperparameters") if isinstance(d.get("hyperparameters"), dict) else {}
    return {"kind": str(d.get("kind") or ("fine-tuned" if d.get("loss_log") else "evaluated")),
            "protocol": str(d.get("protocol") or DASH), "model": model_name(d.get("model")),
            "train / validation / test reviews": " / ".join(count(dig(c, k, "n")) for k in ("train", "validation", "test")),
            "epochs": epochs(d), "hardware": hardware(d), "wall time": wall_time(d),
            "max tokens (truncation)": f"{count(hp.get('max_seq_length'))} ({hp.get('truncation', DASH)})",
            "accuracy": before_after(b, m, "accuracy", pct), "macro F1": before_after(b, m, "macro_f1", pct),
            "validation accuracy": pct(dig(d, "validation_metrics", "accuracy"))}


def _g(v) -> str:
    return f"{v:.4g}" if is_num(v) else DASH


def benchmark_ratios(d: dict) -> list[tuple[str, float, str]]:
    """(measure, ours / padded, 'ours vs padded' in raw units) of a benchmark JSON."""
    out = []
    sp = d.get("speedup_vs_hf_defaults")
    if isinstance(sp, dict):  # benchmarks/throughput.py: ours vs the Hugging Face defaults (pad to max length)
        for key, unit in (("tokens_per_second", "tokens/s"), ("samples_per_second", "samples/s")):
            if is_num(sp.get(key)):
                ours, hf = (dig(d, "runs", r, "results", key) for r in ("ours", "hf_defaults"))
                out.append((f"training {unit}", float(sp[key]), f"{_g(ours)} vs {_g(hf)}"))
    if is_num(d.get("speedup")):  # benchmarks/eval_order.py: length-sorted vs dataset-order (padded) batches
        ours, padded = (dig(d, "results", r, "windows_per_second") for r in ("length_sorted", "dataset_order"))
        out.append(("eval windows/s", float(d["speedup"]), f"{_g(ours)} vs {_g(padded)}"))
    return out


def _benchmark_seconds(d: dict) -> list[float]:
    """Timed seconds of each compared setting: throughput.py's runs (warm-up + measured), eval_order.py's repeats."""
    secs = []
    for r in (d.get("runs") or {}).values() if isinstance(d.get("runs"), dict) else []:
        secs += [dig(r, "results", "seconds"), dig(r, "results", "warmup_seconds")]
    if "speedup" in d:
        for r in (d.get("results") or {}).values() if isinstance(d.get("results"), dict) else []:
            secs += r.get("seconds", []) if isinstance(r, dict) and isinstance(r.get("seconds"), list) else []
    return [v for v in secs if is_num(v)]


def benchmark_cells(d: dict) -> dict:
    ratios = benchmark_ratios(d)
    if not ratios:
        raise Partial("benchmark without a speed-up figure (stopped early, or an unknown benchmark)")
    name = d.get("benchmark") or str(d.get("task", DASH)).replace("benchmark: ", "")
    secs = _benchmark_seconds(d)
    same = " (identical predictions)" if d.get("identical_predictions") is True else ""
    return {"benchmark": str(name), "model": model_name(d.get("model")), "hardware": hardware(d),
            "wall time": duration(sum(secs)) if secs else DASH,
            "ours vs padded": ", ".join(f"{r:.2f}x {k}" for k, r, _ in ratios) + same}


def gpu_check_cells(d: dict) -> dict:
    if not isinstance(d.get("checks"), list):
        raise Partial("GPU check without checks (stopped before judging?)")
    n, failed = d.get("n_checks"), d.get("n_failed")
    verdict = "passed" if d.get("passed") else "FAILED"
    sq = dig(d, "figures", "squad", "metrics", default={})
    return {"mode": str(d.get("mode", DASH)),
            "verdict": f"{verdict} {n - failed}/{n}" if is_num(n) and is_num(failed) else verdict,
            "hardware": hardware(d), "span F1": num(sq.get("nonnull_HasAns_f1")), "best F1": num(sq.get("best_f1")),
            '"no answer" F1': num(dig(d, "figures", "squad", "no_answer_f1")),
            "IMDB accuracy": pct(dig(d, "figures", "imdb", "metrics", "accuracy")),
            "speed-up (tokens/s)": num(dig(d, "figures", "throughput", "speedup_vs_hf_defaults", "tokens_per_second"))}


SECTIONS = {  # title, cells function, columns (run, date and plots are added), legend
    "squad": ("SQuAD 2.0", squad_cells,
              ["kind", "protocol", "model", "train / eval questions", "epochs", "hardware", "date", "wall time",
               "no-answer threshold", "EM", "F1", "span F1", "best F1", '"no answer" F1'],
              "EM, F1: exact match and F1 (%) at the run's no-answer threshold (a question is answered \"no answer\" "
              "when null score - best span score is above it; *calibrated*: chosen on held-out training questions). "
              "span F1: F1 of the best non-empty span on the answerable questions, whatever the threshold. best F1: "
              "F1 at the best threshold for these very questions (an oracle). \"no answer\" F1: answering \"no answer\" "
              "everywhere. Before → after: the same eval questions scored by the model before fine-tuning."),
    "imdb": ("IMDB sentiment", imdb_cells,
             ["kind", "protocol", "model", "train / validation / test reviews", "epochs", "hardware", "date",
              "wall time", "max tokens (truncation)", "accuracy", "macro F1", "validation accuracy"],
             "accuracy, macro F1 (%) on the test reviews, before → after fine-tuning (the same reviews); validation "
             "accuracy: the held-out training reviews, after."),
    "benchmark": ("Benchmarks", benchmark_cells, ["benchmark", "model", "hardware", "date", "wall time", "ours vs padded"],
                  "Speed-up of this project's batching (length-grouped, dynamic padding) over padding every window to "
                  "the maximum length, same model and data, measured in one run."),
    "gpu_check": ("GPU checks", gpu_check_cells,
                  ["mode", "verdict", "hardware", "date", "span F1", "best F1", '"no answer" F1', "IMDB accuracy",
                   "speed-up (tokens/s)"],
                  "scripts/gpu_check.sh: each check against its threshold; the figures of its SQuAD, IMDB and "
                  "throughput steps."),
}


# ---- plots ----------------------------------------------------------------------------------------------------
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


def _plot_squad(P, run: Run, folder: Path, results_dir: Path):
    d, m = run.data, run.data["metrics"]
    b = d.get("baseline_metrics") if isinstance(d.get("baseline_metrics"), dict) else None
    value, method, _ = threshold_used(d)
    n = m.get("total")
    steps, losses = _loss_points(d)
    if steps:
        yield "training loss", P.loss(folder / "loss.png", steps, losses, f"training loss\n{run.name}",
                                      _epoch_metrics(d))
    names = [("exact", "EM"), ("f1", "F1"), ("HasAns_exact", "HasAns EM"), ("HasAns_f1", "HasAns F1"),
             ("NoAns_exact", "NoAns EM = F1"), ("nonnull_HasAns_f1", "span F1"), ("best_f1", "best F1 (oracle)")]
    keep = [(k, label) for k, label in names if is_num(m.get(k)) and (b is None or is_num(b.get(k)))]
    yield "before vs after", P.before_after(
        folder / "before_after.png", [label for _, label in keep], [b[k] for k, _ in keep] if b else None,
        [m[k] for k, _ in keep], f"SQuAD 2.0, {n} eval questions, no-answer threshold {value:.2f} ({method})\n{run.name}",
        no_answer_f1(m), '"no answer" everywhere')
    from .threshold_curve import run_curve, value_at
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
    d, m = run.data, run.data["metrics"]
    b = d.get("baseline_metrics") if isinstance(d.get("baseline_metrics"), dict) else None
    steps, losses = _loss_points(d)
    if steps:
        yield "training loss", P.loss(folder / "loss.png", steps, losses, f"training loss\n{run.name}",
                                      _epoch_metrics(d))
    getters = [("accuracy", lambda x: x.get("accuracy")), ("macro F1", lambda x: x.get("macro_f1"))]
    for c in ("negative", "positive"):
        for k in ("precision", "recall"):
            getters.append((f"{c[:3]}. {k}", lambda x, c=c, k=k: dig(x, "per_class", c, k)))
    keep = [(label, g) for label, g in getters if is_num(g(m)) and (b is None or is_num(g(b)))]
    support = [dig(m, "per_class", c, "support") for c in ("negative", "positive")]
    majority = 100.0 * max(support) / sum(support) if all(is_num(s) for s in support) and sum(support) else None
    yield "before vs after", P.before_after(
        folder / "before_after.png", [label for label, _ in keep], [100 * g(b) for _, g in keep] if b else None,
        [100 * g(m) for _, g in keep], f"IMDB, {m.get('n', DASH)} test reviews\n{run.name}", majority,
        "always the majority class")
    matrices = {}
    for label, x in (("before fine-tuning", b), ("after fine-tuning", m)):
        cm = dig(x, "confusion_matrix", "matrix") if x else None
        if isinstance(cm, list) and cm and all(isinstance(r, list) and all(is_num(v) for v in r) for r in cm):
            matrices[label] = cm
    if matrices:
        labels = dig(m, "confusion_matrix", "labels", default=["negative", "positive"])
        yield "confusion matrix", P.confusion(folder / "confusion.png", matrices, labels,
                                              f"test reviews, true vs predicted label\n{run.name}")


def _plot_benchmark(P, run: Run, folder: Path, results_dir: Path):
    ratios = benchmark_ratios(run.data)
    yield "speed-up", P.ratios(folder / "speedup.png", [k for k, _, _ in ratios], [r for _, r, _ in ratios],
                               [w for _, _, w in ratios], f"ours vs padded batches\n{run.name}")


PLOTTERS = {"squad": _plot_squad, "imdb": _plot_imdb, "benchmark": _plot_benchmark}


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


# ---- the summary ----------------------------------------------------------------------------------------------
def result_files(results_dir: Path) -> list[Path]:
    files = []
    for sub in FOLDERS:
        folder = results_dir / sub if sub else results_dir
        files += sorted(p for p in folder.glob("*.json") if p.is_file())
    return files


def read_runs(results_dir: Path) -> tuple[list[Run], list[tuple[str, str]]]:
    runs, skipped = [], []
    for path in result_files(results_dir):
        rel = path.relative_to(results_dir).as_posix()
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as e:
            skipped.append((rel, f"not readable ({type(e).__name__})"))
            continue
        except json.JSONDecodeError as e:
            skipped.append((rel, f"not valid JSON (line {e.lineno}: {e.msg}; cut short while being written?)"))
            continue
        section = section_of(d) if isinstance(d, dict) else None
        if section is None:
            what = f"task {d.get('task')!r}" if isinstance(d, dict) and "task" in d else "no 'task' field"
            skipped.append((rel, f"not a results file of a known kind ({what})" if isinstance(d, dict)
                            else "not a JSON object"))
            continue
        run = Run(name=rel[:-len(".json")], link=rel, section=section, data=d)
        try:
            run.cells = SECTIONS[section][1](d)
        except Partial as e:
            skipped.append((rel, str(e)))
            continue
        except Exception as e:  # an old or odd format: skipped with the reason, the others still summarised
            skipped.append((rel, f"format not understood ({type(e).__name__}: {e})"[:300]))
            continue
        run.cells["date"] = date(d, run.name)
        runs.append(run)
    return runs, skipped


def _cell(s) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def _anchor(name: str) -> str:  # GitHub's heading ids: lower case, punctuation dropped, spaces to dashes
    return re.sub(r"[^\w\- ]", "", name.lower()).replace(" ", "-")


def render(runs: list[Run], skipped: list[tuple[str, str]], extra: list[str] | None = None) -> str:
    out = ["# Results at a glance", "",
           "Every run in this folder, one row each, written by `bash scripts/report.sh` (`python -m bertkit.summary`) "
           "from the runs' JSON files: each number is its JSON's, rounded to 2 decimals. *a → b*: before → after "
           "fine-tuning. Wall time: the run's measured steps (preprocessing, training, evaluation) summed. Plots: "
           "[below](#plots), and in `plots/<run>/`.", ""]
    for section, (title, _, columns, legend) in SECTIONS.items():
        rows = sorted((r for r in runs if r.section == section), key=lambda r: (r.cells["date"], r.name))
        if not rows:
            continue
        cols = ["run", *columns, "plots"]
        out += [f"## {title}", "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for r in rows:
            plots = f"[plots](#{_anchor(r.name)})" if r.plots else DASH
            cells = [f"[{r.name}]({r.link})", *(r.cells.get(c, DASH) for c in columns), plots]
            out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        out += ["", legend, ""]
    out += extra or []
    plotted = [r for r in sorted(runs, key=lambda r: r.name) if r.plots or r.notes]
    if plotted:
        out += ["## Plots", ""]
        for r in plotted:
            out += [f"### {r.name}", "", f"[JSON]({r.link}) · folder `plots/{r.name}/`", ""]
            if r.plots:
                out.append(" ".join(f'<a href="{p}"><img src="{p}" width="32%" alt="{c}" title="{c}"></a>'
                                    for c, p in r.plots))
                out.append("")
            out += [f"*{_cell(n)}*" for n in r.notes] + ([""] if r.notes else [])
    if skipped:
        out += ["## Skipped", "", "Files in the results folders that give no row, and why:", ""]
        out += [f"- `{rel}`: {_cell(why)}" for rel, why in skipped] + [""]
    return "\n".join(out)


def write_summary(results_dir, plots: bool = True) -> tuple[Path, list[Run], list[tuple[str, str]]]:
    results_dir = Path(results_dir)
    runs, skipped = read_runs(results_dir)
    if plots:
        try:
            from . import plots as P
        except ImportError as e:  # matplotlib missing: the table still tells the story
            skipped.append(("plots/", f"no plots drawn: {e} (pip install -r requirements.txt)"))
        else:
            for run in runs:
                make_plots(run, results_dir, P)
    try:  # the learning curve's points (results/learning_curve/): one section, never the end of the summary
        from .curve import summary_section
        extra = summary_section(results_dir)
    except Exception as e:
        extra, _ = [], skipped.append(("learning_curve/", f"not summarised: {type(e).__name__}: {e}"[:300]))
    path = results_dir / "summary.md"
    write_text_atomic(path, render(runs, skipped, extra))
    return path, runs, skipped


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--results", default="results", help="the results folder (default: results)")
    p.add_argument("--run", default=None, help="a run's name (its JSON without .json): print where its plots are")
    p.add_argument("--no_plots", action="store_true", help="the table only")
    a = p.parse_args(argv)
    if not Path(a.results).is_dir():
        print(f"error: --results {a.results} is not a folder", file=sys.stderr)
        return 2
    path, runs, skipped = write_summary(a.results, plots=not a.no_plots)
    print(f"summary: {path} (runs: {len(runs)}, skipped: {len(skipped)})")
    if a.run:
        name = a.run.removesuffix(".json")
        run = next((r for r in runs if r.name == name), None)
        why = next((w for rel, w in skipped if rel == f"{name}.json"), "no such results file")
        if run is None:
            print(f"run {name}: not in the summary: {why}")
        elif run.plots:
            print(f"plots of {name}: {Path(a.results) / 'plots' / name}/")
        for note in run.notes if run else []:
            print(f"note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
