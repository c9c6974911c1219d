"""One row of results/summary.md per results file: reading fields of any age (old formats give a dash, never an
error) and the cells of each section (SQuAD, IMDB, benchmarks, GPU checks). Pure: no files, no plots."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..qa.scoring import abstain_note

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
    if task == "classification":
        return "classification"
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


def no_answer_f1(m: dict):
    t, n = m.get("total"), m.get("NoAns_total")
    return 100.0 * n / t if is_num(t) and is_num(n) and t else None


def baseline(d: dict) -> dict | None:
    """The run's baseline_metrics (the model before fine-tuning on the same questions), None where it has none."""
    return d.get("baseline_metrics") if isinstance(d.get("baseline_metrics"), dict) else None


def metrics_of(d: dict, key: str, why: str) -> tuple[dict, dict | None]:
    """(metrics, baseline metrics or None) of a run whose metrics hold a number at `key`; else Partial(why)."""
    m = d.get("metrics")
    if not isinstance(m, dict) or not is_num(m.get(key)):
        raise Partial(why)
    return m, baseline(d)


def run_kind(d: dict) -> str:
    return str(d.get("kind") or ("fine-tuned" if d.get("loss_log") else "evaluated"))


def squad_cells(d: dict) -> dict:
    m, b = metrics_of(d, "f1", "partial run: no SQuAD metrics (stopped before evaluating?)")
    value, method, cal = threshold_used(d)
    thr = f"{num(value)} ({method}"
    if cal and isinstance(cal.get("n_questions"), int):
        thr += f" on {cal['n_questions']} questions"
    thr += ")"
    if is_num(m.get("f1_at_0")) and value != 0.0:
        thr += f"; F1 at 0: {num(m['f1_at_0'])}"
    if abstain_note(d.get("null_threshold") if isinstance(d.get("null_threshold"), dict) else None):
        thr += "; abstains everywhere: did not learn which questions have no answer"
    return {"kind": run_kind(d), "protocol": str(d.get("protocol") or dig(d, "data", "protocol", default=DASH)),
            "model": model_name(d.get("model")),
            "train / eval questions": f"{count(dig(d, 'data', 'train', 'n_examples'))} / "
                                      f"{count(dig(d, 'data', 'eval', 'n_examples', default=m.get('total')))}",
            "epochs": epochs(d), "hardware": hardware(d), "wall time": wall_time(d), "no-answer threshold": thr,
            "EM": before_after(b, m, "exact"), "F1": before_after(b, m, "f1"),
            "span F1": before_after(b, m, "nonnull_HasAns_f1"), "best F1": before_after(b, m, "best_f1"),
            '"no answer" F1': num(no_answer_f1(m)),
            "short contexts: answered / abstained": _rates(d, "short_context", "answer_rate"),
            "plain questions: right / abstained": _rates(d, "plain_questions", "right_rate")}


def _rates(d: dict, name: str, key: str) -> str:
    x = dig(d, "robustness", name, default={})
    return f"{num(x.get(key))} / {num(x.get('abstain_rate'))}" if x else DASH


def imdb_cells(d: dict) -> dict:
    m, b = metrics_of(d, "accuracy", "partial run: no test metrics (stopped early, or run without --do_predict)")
    c = dig(d, "data", "counts", default={})
    hp = d.get("hyperparameters") if isinstance(d.get("hyperparameters"), dict) else {}
    return {"kind": run_kind(d), "protocol": str(d.get("protocol") or DASH), "model": model_name(d.get("model")),
            "train / validation / test reviews": " / ".join(count(dig(c, k, "n")) for k in ("train", "validation", "test")),
            "epochs": epochs(d), "hardware": hardware(d), "wall time": wall_time(d),
            "max tokens (truncation)": f"{count(hp.get('max_seq_length'))} ({hp.get('truncation', DASH)})",
            "accuracy": before_after(b, m, "accuracy", pct), "macro F1": before_after(b, m, "macro_f1", pct),
            "validation accuracy": pct(dig(d, "validation_metrics", "accuracy"))}


def classification_cells(d: dict) -> dict:
    """imdb_cells for any labels: the classes, texts not reviews, micro F1 where multi-label."""
    cells = imdb_cells(d)
    cells["train / validation / test texts"] = cells.pop("train / validation / test reviews")
    names = dig(d, "data", "labels", "names", default=[])
    multi = dig(d, "data", "labels", "multi_label")
    cells["classes"] = f"{len(names)}{' (multi-label)' if multi else ''}" if names else DASH
    pair = dig(d, "data", "columns", "text_pair")
    cells["input"] = f"pairs ({dig(d, 'data', 'columns', 'text')} / {pair})" if pair else "one text"
    return cells


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
        raise Partial("no ours-vs-padded figure: another kind of benchmark (its figures are in its JSON), or one stopped early")
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
               "no-answer threshold", "EM", "F1", "span F1", "best F1", '"no answer" F1',
               "short contexts: answered / abstained", "plain questions: right / abstained"],
              "EM, F1: exact match and F1 (%) at the run's no-answer threshold (a question is answered \"no answer\" "
              "when null score - best span score is above it; *calibrated*: chosen on held-out training questions). "
              "span F1: F1 of the best non-empty span on the answerable questions, whatever the threshold. best F1: "
              "F1 at the best threshold for these very questions (an oracle). \"no answer\" F1: answering \"no answer\" "
              "everywhere. Before → after: the same eval questions scored by the model before fine-tuning. "
              "short contexts (%): each eval question asked with one sentence of its paragraph (the answer's; for an "
              "unanswerable one, the sentence closest to the question), as ask.py asks (at the short contexts' own "
              "threshold where the run calibrated one): answered of the answerable, "
              "abstained of the unanswerable. plain questions (%): benchmarks/data/plain_questions.jsonl, answered "
              "right (F1 >= 0.5) of the answerable, abstained of the rest (bertkit/qa/robustness.py)."),
    "imdb": ("IMDB sentiment", imdb_cells,
             ["kind", "protocol", "model", "train / validation / test reviews", "epochs", "hardware", "date",
              "wall time", "max tokens (truncation)", "accuracy", "macro F1", "validation accuracy"],
             "accuracy, macro F1 (%) on the test reviews, before → after fine-tuning (the same reviews); validation "
             "accuracy: the held-out training reviews, after."),
    "classification": ("Text classification (your labels)", classification_cells,
                       ["kind", "protocol", "model", "classes", "input", "train / validation / test texts", "epochs",
                        "hardware", "date", "wall time", "max tokens (truncation)", "accuracy", "macro F1",
                        "validation accuracy"],
                       "accuracy (multi-label: every label of a text right), macro F1 (%) on the test texts, before → "
                       "after fine-tuning (the same texts); run_classification.py (docs/your-data.md)."),
    "benchmark": ("Benchmarks", benchmark_cells, ["benchmark", "model", "hardware", "date", "wall time", "ours vs padded"],
                  "Speed-up of this project's batching (length-grouped, dynamic padding) over padding every window to "
                  "the maximum length, same model and data, measured in one run."),
    "gpu_check": ("GPU checks", gpu_check_cells,
                  ["mode", "verdict", "hardware", "date", "span F1", "best F1", '"no answer" F1', "IMDB accuracy",
                   "speed-up (tokens/s)"],
                  "scripts/gpu_check.sh: each check against its threshold; the figures of its SQuAD, IMDB and "
                  "throughput steps."),
}
