"""results/summary.md: every run in the results folder, one row each, key metrics before -> after, with links
to the run's JSON and to its plots (bertkit.report.plots, PNGs under results/plots/<run>/).

    .venv/bin/python -m bertkit.report.summary [--results results] [--run <run name>] [--no_plots]

Reads results/*.json, results/benchmarks/*.json, results/gpu_check/*.json and results/tuning/*.json. A file it
cannot read, a run of unknown format and a partial run (no metrics) are listed under "Skipped" with the reason:
one run's odd or old format never stops the others. Every number shown is its JSON's, rounded to 2 decimals.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from ..results.record import write_text_atomic
from .rows import DASH, SECTIONS, Partial, Run, date, section_of
from .summary_plots import make_plots

FOLDERS = ("", "benchmarks", "gpu_check", "tuning")  # under the results folder; not the runs' own folders


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
           "Every run in this folder, one row each, written by `bash scripts/report.sh` (`.venv/bin/python -m bertkit.report.summary`) "
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
            skipped.append(("plots/", f"no plots drawn: {e} (.venv/bin/python -m pip install -r requirements.txt)"))
        else:
            for run in runs:
                make_plots(run, results_dir, P)
    try:  # the learning curve's points (results/learning_curve/): one section, never the end of the summary
        from .learning_curve import summary_section
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
