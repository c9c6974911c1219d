"""results/summary.md and its plots (bertkit.report.summary, bertkit.report.plots, scripts/report.sh): every number equals its
JSON, every plot is a PNG of the fixed size, the threshold curve peaks at the run's best_f1, and a results folder
with a corrupt, an old-format, a partial and an unknown file still gives a summary that names them."""
import json
import math
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from bertkit.qa.threshold_curve import run_curve, value_at
from bertkit.report import rows as R, summary

REPO = Path(__file__).resolve().parents[1]

SQUAD_RUN = "squad_subset_20261125_173737"
IMDB_RUN = "imdb_subset_head_20261125_182104"
# A run from before task/kind/data/timing/hardware were recorded, its model a plain string, its folder gone.
OLD = {"model": "bert-base-uncased", "hyperparameters": {"num_train_epochs": 2}, "output_dir": "outputs/long_gone",
       "metrics": {"exact": 31.0, "f1": 36.25, "total": 100, "HasAns_exact": 20.0, "HasAns_f1": 30.5, "HasAns_total": 50,
                   "NoAns_exact": 42.0, "NoAns_f1": 42.0, "NoAns_total": 50}}
BAD = {"squad_corrupt_20260101_000000.json": '{"task": "squad_v2", "metrics": {"exact": 1',  # cut short
       "imdb_partial_20260101_000000.json": json.dumps({"task": "imdb", "metrics": None, "loss_log": []}),
       "benchmarks/mystery.json": json.dumps({"hello": 1}), "tuning/notes.json": "[1, 2]"}


def copy_results(dst):
    """The committed results' JSON files (not the runs' folders: output_dir points at those in the repo)."""
    for sub in summary.FOLDERS:
        for f in (REPO / "results" / sub).glob("*.json"):
            (dst / sub).mkdir(parents=True, exist_ok=True)
            shutil.copy(f, dst / sub / f.name)


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    res = tmp_path_factory.mktemp("report") / "results"
    copy_results(res)
    (res / "squad_old_20250101_000000.json").write_text(json.dumps(OLD))
    for name, text in BAD.items():
        (res / name).parent.mkdir(exist_ok=True)
        (res / name).write_text(text)
    path, runs, skipped = summary.write_summary(res)
    return res, path.read_text(encoding="utf-8"), runs, dict(skipped)


def tables(md: str) -> dict:
    """{section title: [row dicts by column name]} of summary.md's tables."""
    out, title, cols = {}, None, None
    for line in md.splitlines():
        if line.startswith("## "):
            title, cols = line[3:], None
        elif line.startswith("|") and title:
            cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip()[1:-1])]
            if cols is None:
                cols = cells
            elif not set(line) <= set("|-"):
                out.setdefault(title, []).append(dict(zip(cols, cells)))
    return out


def f2(v):
    return f"{v:.2f}" if isinstance(v, (int, float)) else "–"


def ba(before, after, key, scale=1):
    fmt = lambda m: f2(scale * m[key]) if isinstance(m.get(key), (int, float)) else "–"  # noqa: E731
    return fmt(after) if before is None else f"{fmt(before)} → {fmt(after)}"


def numbers_in(obj, scale=1):
    """Every number in a JSON, as the summary would print it (2 decimals; fractions also as %)."""
    if isinstance(obj, dict):
        return set().union(*(numbers_in(v) for v in obj.values())) if obj else set()
    if isinstance(obj, list):
        return set().union(*(numbers_in(v) for v in obj)) if obj else set()
    if isinstance(obj, (int, float)) and not isinstance(obj, bool) and math.isfinite(obj):
        return {f"{obj:.2f}", f"{100 * obj:.2f}"}
    return set()


def row_json(res, row):
    link = re.match(r"\[(.+?)\]\((.+?)\)", row["run"])[2]
    return json.loads((res / link).read_text())


def test_every_number_in_the_summary_equals_its_json(made):
    res, md, runs, _ = made
    t = tables(md)
    assert {"SQuAD 2.0", "IMDB sentiment", "Benchmarks"} <= set(t)
    n_rows = 0
    for title, rows in t.items():
        for row in rows:
            d, n_rows = row_json(res, row), n_rows + 1
            m, b = d.get("metrics") or {}, d.get("baseline_metrics")  # benchmarks have neither
            if title == "SQuAD 2.0":
                assert row["EM"] == ba(b, m, "exact") and row["F1"] == ba(b, m, "f1")
                assert row["span F1"] == ba(b, m, "nonnull_HasAns_f1") and row["best F1"] == ba(b, m, "best_f1")
                assert row['"no answer" F1'] == f2(100 * m["NoAns_total"] / m["total"])
                used = (d.get("null_threshold") or {}).get("value", d.get("hyperparameters", {}).get("null_score_diff_threshold", 0.0))
                assert row["no-answer threshold"].startswith(f2(used))
                n_eval = d.get("data", {}).get("eval", {}).get("n_examples", m["total"])
                assert row["train / eval questions"].endswith(f" / {n_eval}")
            elif title == "IMDB sentiment":
                assert row["accuracy"] == ba(b, m, "accuracy", 100) and row["macro F1"] == ba(b, m, "macro_f1", 100)
                assert row["validation accuracy"] == f2(100 * d["validation_metrics"]["accuracy"])
                c = d["data"]["counts"]
                assert row["train / validation / test reviews"] == f"{c['train']['n']} / {c['validation']['n']} / {c['test']['n']}"
            elif title == "Benchmarks":
                ratio = d.get("speedup") or d["speedup_vs_hf_defaults"]["tokens_per_second"]
                assert f"{ratio:.2f}x" in row["ours vs padded"]
            if "created" in d:
                assert row["date"] == d["created"][:10]
            secs = [v for k, v in (d.get("timing") or {}).items() if k.endswith("_seconds") and isinstance(v, (int, float))]
            if secs:
                s = round(sum(secs))
                assert row["wall time"] == (f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s")
            # and no other 2-decimal number in the row comes from anywhere but this JSON
            known = numbers_in(d)
            if title == "SQuAD 2.0":
                known.add(f2(100 * m["NoAns_total"] / m["total"]))  # '"no answer" F1', derived from two counts
                if "(default)" in row["no-answer threshold"]:
                    known.add("0.00")  # a run from before the threshold was recorded: the flag's default
            for col, cell in row.items():
                for x in re.findall(r"(?<![\d.])-?\d+\.\d\d(?![\d])", cell if col != "run" else ""):
                    assert x in known, (row["run"], col, x)
    assert n_rows == len(runs)


def test_old_corrupt_partial_and_unknown_files_still_give_a_summary(made):
    res, md, runs, skipped = made
    assert "not valid JSON" in skipped["squad_corrupt_20260101_000000.json"]
    assert "partial run" in skipped["imdb_partial_20260101_000000.json"]
    assert "known kind" in skipped["benchmarks/mystery.json"] and "JSON object" in skipped["tuning/notes.json"]
    section = md.split("## Skipped", 1)[1]
    for name in BAD:
        assert f"`{name}`" in section
    old = next(r for r in tables(md)["SQuAD 2.0"] if "squad_old_20250101_000000" in r["run"])
    assert old["EM"] == "31.00" and old["F1"] == "36.25" and old['"no answer" F1'] == "50.00"
    assert old["date"] == "2025-01-01" and old["hardware"] == "–" and old["model"] == "bert-base-uncased"
    run = next(r for r in runs if r.name == "squad_old_20250101_000000")
    assert [c for c, _ in run.plots] == ["before vs after"]
    assert any(n.startswith("threshold plot skipped: prediction files not readable") for n in run.notes)
    assert "threshold plot skipped" in md


def png_size(path) -> tuple[int, int]:
    b = path.read_bytes()
    assert b[:8] == b"\x89PNG\r\n\x1a\n" and b[12:16] == b"IHDR", f"{path}: not a PNG"
    assert b[-8:-4] == b"IEND", f"{path}: cut short"
    return struct.unpack(">II", b[16:24])


def test_each_plot_is_a_png_of_the_expected_size_and_linked(made):
    res, md, runs, _ = made
    linked = set(re.findall(r'<img src="([^"]+)"', md))
    drawn = {p for r in runs for _, p in r.plots}
    assert linked == drawn and len(drawn) >= 15
    for p in drawn:
        assert png_size(res / p) == (800, 500), p
    by_name = {r.name: {p.rsplit("/", 1)[-1] for _, p in r.plots} for r in runs}
    squad = by_name[SQUAD_RUN]
    assert {"loss.png", "before_after.png"} <= squad
    assert "threshold.png" in squad or any("threshold plot skipped" in n for r in runs if r.name == SQUAD_RUN for n in r.notes)
    assert by_name[IMDB_RUN] == {"loss.png", "before_after.png", "confusion.png"}
    assert all(v == {"speedup.png"} for k, v in by_name.items() if k.startswith("benchmarks/"))


def test_a_committed_threshold_plot_survives_a_clone_without_the_predictions(tmp_path):
    # git keeps results/plots/ but not every run's prediction folder: redrawing elsewhere must not delete the plot
    from bertkit.report import plots
    res = tmp_path / "results"
    res.mkdir()
    (res / "squad_old_20250101_000000.json").write_text(json.dumps(OLD))
    kept = res / "plots" / "squad_old_20250101_000000" / "threshold.png"
    kept.parent.mkdir(parents=True)
    plots.before_after(kept, ["F1"], None, [1.0], "drawn where the predictions were\nrun", 49.8, "ref")
    before = kept.read_bytes()
    path, runs, _ = summary.write_summary(res)
    assert kept.read_bytes() == before
    run = runs[0]
    assert "plots/squad_old_20250101_000000/threshold.png" in [p for _, p in run.plots]
    assert any("not redrawn" in n and "kept" in n for n in run.notes)
    assert 'src="plots/squad_old_20250101_000000/threshold.png"' in path.read_text(encoding="utf-8")


def test_plots_are_byte_identical_when_redrawn(tmp_path):
    from bertkit.report import plots
    a = plots.before_after(tmp_path / "a.png", ["EM", "F1"], [1.0, 2.0], [30.0, 35.5], "t\nrun", 49.8, "ref")
    b = plots.before_after(tmp_path / "b.png", ["EM", "F1"], [1.0, 2.0], [30.0, 35.5], "t\nrun", 49.8, "ref")
    assert a.read_bytes() == b.read_bytes() and b"Software" not in a.read_bytes()


@pytest.mark.parametrize("run", [SQUAD_RUN, SQUAD_RUN + "_baseline"])
def test_threshold_curve_peaks_at_the_runs_best_f1(dev_file, run):
    r = json.loads((REPO / "results" / f"{run}.json").read_text())
    m = r["metrics"]
    curve, note = run_curve(r)
    assert curve is not None, note
    assert max(curve["f1"]) == pytest.approx(m["best_f1"], abs=1e-9)
    assert max(curve["exact"]) == pytest.approx(m["best_exact"], abs=1e-9)
    if m["best_f1"] > 100 * m["NoAns_total"] / m["total"]:  # else the official search reports 0.0, not a cut
        assert value_at(curve, "f1", m["best_f1_thresh"]) == pytest.approx(m["best_f1"], abs=1e-9)
    # at the threshold the run used (0.0: these runs predate null_threshold) the curve gives the run's scores
    assert value_at(curve, "f1", 0.0) == pytest.approx(m["f1"], abs=1e-9)
    assert value_at(curve, "exact", 0.0) == pytest.approx(m["exact"], abs=1e-9)
    assert curve["f1"][0] == pytest.approx(100 * m["NoAns_total"] / m["total"])  # nothing answered


def test_new_threshold_fields_are_used_when_present(tmp_path):
    """null_threshold (calibrated) and metrics' F1 at 0 from runs that have them; the flag otherwise."""
    d = json.loads((REPO / "results" / f"{SQUAD_RUN}.json").read_text())
    d["null_threshold"] = {"value": -1.25, "method": "calibrated", "calibration": {"n_questions": 400, "f1": 51.0}}
    d["metrics"]["f1_at_0"] = 35.68316806469184
    (tmp_path / "squad_new_20270101_000000.json").write_text(json.dumps(d))
    summary.write_summary(tmp_path, plots=False)
    row = tables((tmp_path / "summary.md").read_text())["SQuAD 2.0"][0]
    assert row["no-answer threshold"] == "-1.25 (calibrated on 400 questions); F1 at 0: 35.68"
    assert R.threshold_used({"hyperparameters": {"null_score_diff_threshold": "auto"}}) == (0.0, "default", None)


def test_report_sh_writes_the_summary_and_says_where(tmp_path):
    res = tmp_path / "results"
    res.mkdir()
    shutil.copy(REPO / "results" / f"{IMDB_RUN}.json", res)
    (res / "broken.json").write_text("{")
    env = {**os.environ, "RESULTS_DIR": str(res), "RUN": IMDB_RUN}
    p = subprocess.run(["bash", "scripts/report.sh"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"summary: {res}/summary.md (runs: 1, skipped: 1)" in p.stdout
    assert f"plots of {IMDB_RUN}: {res}/plots/{IMDB_RUN}/" in p.stdout
    md = (res / "summary.md").read_text()
    assert IMDB_RUN in md and "`broken.json`: not valid JSON" in md
    assert png_size(res / "plots" / IMDB_RUN / "confusion.png") == (800, 500)
