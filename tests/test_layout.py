"""The layout's rule and the docs' commands, checked statically (no model, no data: about a second).

- bertkit/ imports only point down: serve/, report/ -> qa/, classify/ -> train/ -> data/, results/ -> errors.py,
  and no module is over ~300 lines (CONTRIBUTING.md, "Layout").
- Every command in the README, docs/ and CONTRIBUTING.md names a script, module and flags that exist, with
  environment knobs a script reads; every relative link and #anchor there resolves.
"""
from __future__ import annotations

import ast
import functools
import json
import math
import re
import statistics
from pathlib import Path

import pytest

from doc_commands import DOCS, documented, inline_commands, segments, written_pages

REPO = Path(__file__).resolve().parents[1]
PKG = REPO / "bertkit"
# rank: a module may import from its own folder and from folders of a higher rank only
LAYERS = {"serve": 1, "report": 1, "tools": 1, "qa": 2, "classify": 2, "train": 3, "data": 4, "results": 4,
          "errors": 5, "utils": 5}
MAX_LINES = 310  # "no module over ~300 lines"


def modules():
    return sorted(p for p in PKG.rglob("*.py") if p.name != "__init__.py" or p.parent != PKG)


def concern(p: Path) -> str:
    rel = p.relative_to(PKG).parts
    return rel[0].removesuffix(".py")


def imported(p: Path) -> set[str]:
    """The bertkit concerns `p` imports (absolute or relative, at the top or inside functions)."""
    here = p.relative_to(REPO).with_suffix("").parts[:-1]  # the package of p, e.g. ("bertkit", "qa")
    out = set()
    for node in ast.walk(ast.parse(p.read_text(), str(p))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(here[: len(here) - node.level + 1])
                parts = base + (node.module.split(".") if node.module else [])
                names = [parts + [a.name] for a in node.names] if not node.module else [parts]
            else:
                names = [node.module.split(".")] if node.module else []
        elif isinstance(node, ast.Import):
            names = [a.name.split(".") for a in node.names]
        else:
            continue
        for parts in names:
            if parts[0] == "bertkit" and len(parts) > 1:
                out.add(parts[1])
    return out


def test_imports_only_point_down():
    wrong = []
    for p in modules():
        me = concern(p)
        for other in imported(p) - {me}:
            if other not in LAYERS:
                wrong.append(f"{p.relative_to(REPO)} imports bertkit.{other}: not a known folder (add it to LAYERS)")
            elif LAYERS[other] <= LAYERS[me]:
                wrong.append(f"{p.relative_to(REPO)} ({me}) imports bertkit.{other}: not below it")
    assert not wrong, "\n".join(wrong)
    assert set(LAYERS) == {concern(p) for p in modules()}, "a folder of bertkit/ is missing from LAYERS"


def test_no_module_over_300_lines():
    long = [f"{p.relative_to(REPO)}: {n} lines" for p in [*modules(), *REPO.glob("*.py")]
            if (n := len(p.read_text().splitlines())) > MAX_LINES]
    assert not long, "split by what it does: " + ", ".join(long)


# ---- the docs' commands ---------------------------------------------------------------------------------------
EXTERNAL_ENV = {"CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "PYTHONPATH", "HF_HOME", "PATH", "TRANSFORMERS_CACHE"}
FETCH = ["-m", "bertkit.data.fetch"]  # standard library only: the one module python3 runs before .venv exists


@functools.lru_cache(maxsize=None)
def all_documented():
    return tuple(documented())


@functools.lru_cache(maxsize=None)
def python_env() -> set[str]:
    """The environment knobs the package itself reads (os.environ), such as DATA_OFFLINE."""
    text = "\n".join(p.read_text() for p in PKG.rglob("*.py"))
    return set(re.findall(r"environ(?:\.get)?[(\[]\s*[\"']([A-Z_][A-Z0-9_]*)", text))


def fresh_shell(words: list[str]) -> list[str]:
    """What fails in a new terminal: nothing is activated there, and Debian/Ubuntu have python3 but no python."""
    head = words[:1]
    if head == ["python"]:
        return ["bare `python` (a new terminal has no activated .venv, Debian/Ubuntu no `python`): "
                "write .venv/bin/python"]
    if head == ["python3"] and words[1:3] != FETCH:
        return ["`python3` has none of the project's packages: write .venv/bin/python"]
    if head in (["pip"], ["pip3"]):
        return ["bare `pip` installs outside .venv (or is not there): write .venv/bin/python -m pip"]
    if head == ["accelerate"]:
        return ["bare `accelerate` is not on a new terminal's PATH: write .venv/bin/accelerate"]
    if head == ["source"] and words[1:2] and words[1].startswith("scripts/"):
        return ["`source scripts/...` leaves `set -euo pipefail` in the reader's terminal: write bash scripts/setup_env.sh"]
    return []


def argparse_flags(p: Path) -> set[str]:
    tree = ast.parse(p.read_text())
    flags = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument":
            flags |= {a.value for a in node.args if isinstance(a, ast.Constant) and str(a.value).startswith("--")}
    return flags


def dataclass_fields(p: Path, names=None) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(p.read_text())):
        if isinstance(node, ast.ClassDef) and (names is None or node.name in names) and any(
                getattr(d, "id", getattr(d, "attr", "")) == "dataclass" for d in node.decorator_list):
            out |= {f"--{s.target.id}" for s in node.body if isinstance(s, ast.AnnAssign)}
    return out


@pytest.fixture(scope="module")
def training_flags():
    import dataclasses
    from transformers import TrainingArguments
    return {f"--{f.name}" for f in dataclasses.fields(TrainingArguments)}


def flags_of(script: Path, training_flags) -> set[str]:
    flags = argparse_flags(script) | {"--help", "-h"}
    text = script.read_text()
    if "HfArgumentParser" in text or "parse_flags(" in text:
        flags |= dataclass_fields(script) | training_flags
        if "ModelArguments" in text:
            flags |= dataclass_fields(PKG / "train" / "model_arguments.py", {"ModelArguments"})
        if "A.DataArguments" in text:
            flags |= dataclass_fields(PKG / "qa" / "arguments.py", {"DataArguments"})
        if "from bertkit.classify.arguments import DataArguments" in text:
            flags |= dataclass_fields(PKG / "classify" / "arguments.py", {"DataArguments"})
    for other in re.findall(r"^from (run_\w+) import main$", text, re.M):  # another script's main with presets
        flags |= flags_of(REPO / f"{other}.py", training_flags)
    return flags


def check_command(words: list[str], training_flags) -> list[str]:
    """What is wrong with one documented command: a bare python (or pip, accelerate, source), a missing script or
    module, an unknown flag, an environment knob no script reads."""
    rest = list(words)
    while rest and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", rest[0]):
        rest.pop(0)
    if rest[:1] == ["env"]:
        rest = rest[1:]
    return fresh_shell(rest) + exists(list(words), training_flags)


def exists(words: list[str], training_flags) -> list[str]:
    env = []
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
        env.append(words.pop(0).split("=")[0])
    if words[:1] == ["env"]:
        return exists(words[1:], training_flags)
    problems, script = [], None
    if words[:1] in (["bash"], ["source"]) and len(words) > 1 and words[1].startswith("scripts/"):
        script = REPO / words[1]
        if not script.is_file():
            return [f"{words[1]} does not exist"]
        sh = "\n".join(p.read_text() for p in (REPO / "scripts").glob("*.sh"))
        problems += [f"{words[1]}: {v} is read by no script" for v in env
                     if v not in EXTERNAL_ENV | python_env() and not re.search(rf"\${{?{v}\b", sh)]
        return problems
    if words[:1] == [".venv/bin/python"]:
        words = ["python", *words[1:]]
    if words[:2] in (["accelerate", "launch"], [".venv/bin/accelerate", "launch"]):  # the script and its flags
        # come after accelerate's own
        py = next((i for i, w in enumerate(words) if w.endswith(".py")), None)
        words = ["python", *words[py:]] if py is not None else []
    if words[:1] in (["python"], ["python3"]) and len(words) > 1:
        if words[1] == "-m" and len(words) > 2:
            if not words[2].startswith("bertkit"):
                return []
            script = REPO / (words[2].replace(".", "/") + ".py")
            if not script.is_file():
                return [f"python -m {words[2]}: no such module"]
            args = words[3:]
        elif words[1].endswith(".py"):
            script = REPO / words[1]
            if not script.is_file():
                return [f"{words[1]} does not exist"]
            args = words[2:]
        else:
            return []
        known = flags_of(script, training_flags)
        if "--" in args and "run_squad.py" in script.read_text():  # a benchmark passing the job's flags on
            known |= flags_of(REPO / "run_squad.py", training_flags)
        for a in args:
            flag = a.split("=")[0]
            if flag.startswith("--") and flag not in known and not flag.startswith("--no_") and flag != "--":
                problems.append(f"{script.relative_to(REPO)} has no flag {flag}")
    return problems


@pytest.mark.parametrize("source", sorted({p for p, _, _ in all_documented()}))
def test_documented_commands_exist_and_run_in_a_fresh_shell(source, training_flags):
    """README, CONTRIBUTING, docs/, the --help usage lines and the scripts' headers: every command names a script,
    module, flags and knobs that exist, and spells the project's Python as a new terminal can run it."""
    problems = [f"{p}:{line}: {x}" for p, line, text in all_documented() if p == source
                for words in segments(text) for x in check_command(list(words), training_flags)]
    assert not problems, "\n".join(problems)


def test_every_doc_has_commands_checked():
    assert {md.relative_to(REPO).as_posix() for md in DOCS if md.name != "errors.md"} <= {p for p, _, _ in all_documented()}


@pytest.mark.parametrize("md", [*DOCS, *written_pages()], ids=lambda p: p.relative_to(REPO).as_posix())
def test_commands_in_the_text_run_in_a_fresh_shell(md):
    """The commands quoted in the prose (`...`) and in the pages the project writes (model cards, summary)."""
    problems = [f"{md.relative_to(REPO)}:{line}: {x}" for line, span in inline_commands(md)
                for words in segments(span) for x in fresh_shell(words)]
    assert not problems, "\n".join(problems)


def anchors(md: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", md.read_text(), flags=re.S)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
            for h in re.findall(r"^#+ (.*)$", text, flags=re.M)}


@pytest.mark.parametrize("md", DOCS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_links_in_the_docs_resolve(md):
    text = re.sub(r"```.*?```", "", md.read_text(), flags=re.S)
    bad = []
    for target in re.findall(r"\]\(([^)\s]+)\)|<img src=\"([^\"]+)\"", text):
        target = next(t for t in target if t) if isinstance(target, tuple) else target
        if re.match(r"[a-z]+:", target):
            continue  # a web address
        path, _, anchor = target.partition("#")
        dest = (md.parent / path).resolve() if path else md
        if not dest.exists():
            bad.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            bad.append(f"{target}: no heading #{anchor} in {dest.relative_to(REPO)}")
    assert not bad, f"{md.relative_to(REPO)}: " + "; ".join(bad)


# ---- the docs' figures against their JSON ------------------------------------------------------------------------
# The tables of README.md and docs/results.md that link a results/*.json: every figure in them is the JSON's value,
# rounded to the decimals shown. The JSON of a cell is the one its row links (the first link to a results JSON in
# the row); in a table whose header cells link the JSONs (one run before / after), the one its column's header
# links. A cell's figures map, in order, to the keys of its label: its column's header, or in such a table its
# row's first cell; the label is the longest entry of FIGURES the text starts with (lower case, no markdown).
# "text:" keys take the cell's quoted '...' strings in order. A row with no link must be the mean ± sd row: its
# figures are the mean and sample sd of the rows above.
FIGURES = {
    # one run's table (README "What you get"): the row names the figures, the column header links the JSON
    "metric (dev-split": (),
    "no-answer threshold": ("threshold", "data.calibration.n_examples", "null_threshold.calibration.f1",
                            "null_threshold.calibration.no_answer_f1"),
    "em / f1 at that threshold": ("metrics.exact", "metrics.f1"),
    "hasans f1 / noans f1 there": ("metrics.HasAns_f1", "metrics.NoAns_f1"),
    "f1 at threshold 0": ("metrics.f1_at_0",),
    "best em / best f1": ("metrics.best_exact", "metrics.best_f1", "metrics.best_f1_thresh"),
    '"what is the capital of china?"': ("demo.null_odds", "threshold", "text:demo.best_span", "text:demo.answer"),
    # tables of runs, one row each: the column header names the figures
    "seed": ("hyperparameters.seed",),
    "f1 at the calibrated threshold": ("metrics.f1",),
    "f1 calibrated": ("metrics.f1", "vs_no_answer"),
    '"no answer"': ("no_answer_f1",),
    "difference": ("vs_no_answer",),
    "threshold": ("threshold",),
    "hasans f1": ("metrics.HasAns_f1",),
    "span f1": ("metrics.nonnull_HasAns_f1",),
    "best f1 (oracle)": ("metrics.best_f1",),
    "demo answer": ("text:demo.answer",),
    "training min": ("train_minutes", "windows_per_second"),
    "training windows (epochs)": ("train_windows", "hyperparameters.num_train_epochs",
                                  "hyperparameters.max_train_samples"),
    "run (results/": (),
    "truncation": (),
    "lr": ("hyperparameters.learning_rate",),
    "test accuracy before → after": ("baseline_accuracy", "accuracy"),
    "macro f1 after": ("macro_f1",),
    "validation accuracy": ("validation_accuracy",),
    # issue 30's runs (answering short texts), one row each
    "short-context threshold": ("null_threshold.short_contexts.value",),
    "demo: answer (margin)": ("demo.null_odds", "text:demo.answer"),
    "short contexts: answered / right / abstained": ("robustness.short_context.answer_rate",
                                                     "robustness.short_context.right_rate",
                                                     "robustness.short_context.abstain_rate"),
    "plain questions: answered / right / abstained": ("robustness.plain_questions.answer_rate",
                                                      "robustness.plain_questions.right_rate",
                                                      "robustness.plain_questions.abstain_rate"),
    # what each run's ranking allows there (bertkit.qa.robustness.reachable, an oracle)
    "short contexts at best (oracle): answered / right / abstained": (
        "robustness.short_context.reachable.answer_rate", "robustness.short_context.reachable.right_rate",
        "robustness.short_context.reachable.abstain_rate"),
    "plain questions at best (oracle): answered / right / abstained": (
        "robustness.plain_questions.reachable.answer_rate", "robustness.plain_questions.reachable.right_rate",
        "robustness.plain_questions.reachable.abstain_rate"),
    "precision": (),
    # benchmarks/train_profile.py runs, one row each
    "training step (": (),
    "windows/s": ("results.windows_per_second",),
    "% of the matmul peak": ("peak_percent",),
    "warm-up s": ("results.warmup_seconds",),
    # benchmarks/vs_run_qa.py runs, one row each
    "evaluation of ": (),
    "run_qa.py s": ("median_seconds.run_qa",),
    "run_squad.py s": ("median_seconds.run_squad",),
    "× faster": ("speedup",),
    "f1 run_qa.py / ours": ("metrics.run_qa.f1", "metrics.run_squad.f1"),
    "same answers": ("same_answers", "data.questions"),
    "our prediction s": ("timing_run_squad.eval_seconds",),
}
COMPUTED = {  # figures the docs show that the JSON holds in other units, or as parts
    "threshold": lambda d: (d["null_threshold"]["value"] if "null_threshold" in d
                            else d["hyperparameters"]["null_score_diff_threshold"]),
    "no_answer_f1": lambda d: 100 * d["metrics"]["NoAns_total"] / d["metrics"]["total"],
    "vs_no_answer": lambda d: d["metrics"]["f1"] - COMPUTED["no_answer_f1"](d),
    "train_minutes": lambda d: d["timing"]["train_seconds"] / 60,
    "train_windows": lambda d: d["data"]["train"]["n_features"] * d["hyperparameters"]["num_train_epochs"],
    # as bertkit/report/learning_curve.py counts them: training windows over the training step's seconds
    "windows_per_second": lambda d: COMPUTED["train_windows"](d) / d["timing"]["train_seconds"],
    "baseline_accuracy": lambda d: 100 * d["baseline_metrics"]["accuracy"],
    "accuracy": lambda d: 100 * d["metrics"]["accuracy"],
    "macro_f1": lambda d: 100 * d["metrics"]["macro_f1"],
    "validation_accuracy": lambda d: 100 * d["validation_metrics"]["accuracy"],
    "peak_percent": lambda d: 100 * d["results"]["share_of_matmul_peak"],
    "same_answers": lambda d: int(d["identical_answers"].split("/")[0]),
}
FIGURE_DOCS = [REPO / "README.md", REPO / "docs" / "results.md"]
RESULTS_LINK = re.compile(r"\]\(((?:\.\./)*results/[^)\s#]+\.json)\)")
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[-+]?\d+)?(?![\w.])")


def _plain(cell: str) -> str:
    """A cell's text without markdown: links as their text, no code spans, no emphasis, ASCII minus."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", cell)
    return re.sub(r"`[^`]*`", "", text).replace("**", "").replace("−", "-").strip()


def _label(text: str) -> str:
    text = _plain(text).lower()
    found = [k for k in FIGURES if text.startswith(k)]
    assert found, f"no entry in FIGURES for the label {text!r}: add it (tests/test_layout.py)"
    return max(found, key=len)


def _value(d: dict, key: str):
    if key in COMPUTED:
        return COMPUTED[key](d)
    for part in key.split("."):
        d = d[part]
    return d


def _matches(shown: str, value) -> bool:
    if value is None:
        return False
    x = float(shown.replace(",", ""))
    if "e" in shown.lower():
        return math.isclose(x, float(value), rel_tol=1e-9)
    decimals = len(shown.split(".")[1]) if "." in shown else 0
    return abs(x - float(value)) <= 0.5 * 10 ** -decimals + 1e-9


def _tables(text: str):
    """Each markdown table outside code blocks: (line number of its header, header cells, [(line, cells)])."""
    lines, out, i = text.splitlines(), [], 0
    in_code = False
    while i < len(lines):
        if lines[i].startswith("```"):
            in_code = not in_code
        if not in_code and lines[i].startswith("|") and i + 1 < len(lines) and re.match(r"\|[-| :]+\|$", lines[i + 1]):
            cells = lambda s: [c.strip() for c in s.strip().strip("|").split("|")]  # noqa: E731
            head, rows, j = cells(lines[i]), [], i + 2
            while j < len(lines) and lines[j].startswith("|"):
                rows.append((j + 1, cells(lines[j])))
                j += 1
            out.append((i + 1, head, rows))
            i = j
            continue
        i += 1
    return out


def figure_problems(md: Path, text: str | None = None) -> tuple[list[str], int]:
    """(what disagrees with its JSON, how many figures were checked) in the tables of `md` (or `text` as `md`)."""
    text = md.read_text() if text is None else text
    problems, checked, loaded = [], 0, {}
    rel = md.relative_to(REPO)

    def load(link: str) -> dict:
        if link not in loaded:
            loaded[link] = json.loads((md.parent / link).read_text())
        return loaded[link]

    def check(where: str, cell: str, keys, d: dict | None, expected=None) -> int:
        plain, n = _plain(cell), 0
        numbers = NUMBER.findall(plain)
        texts = re.findall(r"'([^']*)'", plain) if any(k.startswith("text:") for k in keys) else []
        for shown, key in zip(numbers, [k for k in keys if not k.startswith("text:")]):
            try:
                value = expected[key] if expected is not None else _value(d, key)
            except (KeyError, TypeError) as e:
                problems.append(f"{where}: {shown}: the JSON has no {key} ({e!r})")
                continue
            n += 1
            if not _matches(shown, value):
                problems.append(f"{where}: shows {shown}, its JSON's {key} is {value}")
        for shown, key in zip(texts, [k[5:] for k in keys if k.startswith("text:")]):
            n += 1
            if _value(d, key) != shown:
                problems.append(f"{where}: shows {shown!r}, its JSON's {key} is {_value(d, key)!r}")
        return n

    for start, head, rows in _tables(text):
        column_links = [RESULTS_LINK.search(h) for h in head]
        row_links = [[m.group(1) for c in cells for m in RESULTS_LINK.finditer(c)] for _, cells in rows]
        if not any(column_links) and not any(row_links):
            continue  # a table of no committed run
        labels = [] if any(column_links) else [_label(h) for h in head]
        done = []  # the JSONs of the rows so far, for a mean ± sd row
        for (line, cells), links in zip(rows, row_links):
            where = f"{rel}:{line}"
            if any(column_links):  # one run per column; the row's first cell names the figures
                keys = FIGURES[_label(cells[0])]
                for c, m in enumerate(column_links[1:], 1):
                    if m:
                        checked += check(f"{where} ({_plain(head[c])})", cells[c], keys, load(m.group(1)))
            elif links:
                d = load(links[0])
                done.append(d)
                for c, cell in enumerate(cells):
                    checked += check(f"{where} ({_plain(head[c])})", cell, FIGURES[labels[c]], d)
            elif _plain(cells[0]).lower().startswith("mean ± sd"):
                for c, cell in enumerate(cells[1:], 1):
                    keys = [k for k in FIGURES[labels[c]] if not k.startswith("text:")][:1]
                    if keys and cell and done:
                        values = [float(_value(d, keys[0])) for d in done]
                        stats = {"mean": statistics.mean(values), "sd": statistics.stdev(values)}
                        checked += check(f"{where} ({_plain(head[c])})", cell, ["mean", "sd"], None, stats)
            else:
                problems.append(f"{where}: a row of a table of runs with no link to its results JSON")
    return problems, checked


@pytest.mark.parametrize("md", FIGURE_DOCS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_figures_in_the_tables_are_their_jsons(md):
    """README.md's and docs/results.md's tables quote each committed run's figures (F1, EM, HasAns/NoAns, span
    F1, thresholds, minutes, windows/s, accuracy) as its linked JSON has them, rounded to the decimals shown."""
    problems, checked = figure_problems(md)
    assert not problems, "\n".join(problems)
    assert checked >= (20 if md.name == "README.md" else 150), f"only {checked} figures checked: the tables' parsing broke"


@pytest.mark.parametrize("old, new", [("| **51.70 / 54.43** |", "| **51.70 / 54.53** |"),  # a metric
                                      ("| 7.03 | **65.50** |", "| 7.03 | **65.60** |"),
                                      ("(answered 'is')", "(answered 'Beijing')")])        # a demo answer
def test_the_figure_check_catches_a_wrong_figure(old, new):
    md = REPO / "README.md"
    text = md.read_text()
    assert old in text, old
    problems, _ = figure_problems(md, text.replace(old, new, 1))
    assert len(problems) == 1, problems


def test_the_figure_check_catches_wrong_figures_in_rows_and_means():
    md = REPO / "docs" / "results.md"
    text = md.read_text()
    for old, new in (("| 49.37 | 47.00 | +2.37 |", "| 49.37 | 47.00 | +2.47 |"),  # a row's figure
                     ("| 26.8 (8.30) | 54.43 (+4.63) |", "| 25.7 (8.30) | 54.43 (+4.63) |"),  # minutes
                     ("| 52.60 ± 2.81 |", "| 52.60 ± 2.18 |"),                   # a mean ± sd
                     ("| 48.9 → 66.3 | 65.8 |", "| 48.9 → 66.8 | 65.8 |")):      # IMDB accuracy
        assert old in text, old
        problems, _ = figure_problems(md, text.replace(old, new, 1))
        assert len(problems) == 1, (old, problems)


# Libraries by their public APIs: no reaching into a model's or accelerate's internals, no changing a built
# Trainer's arguments behind its back (it read them when it was built).
PRIVATE = [(re.compile(r"__dict__"), "an object's __dict__"), (re.compile(r"\bnative_amp\b"), "accelerate's native_amp"),
           (re.compile(r"\btrainer\.args\.\w+(\s*,\s*[\w.]+)*\s*=[^=]"), "an assignment to trainer.args"),
           (re.compile(r"\b_original_forward\b"), "accelerate's model wrapper")]


def code_files():
    return [*REPO.glob("*.py"), *PKG.rglob("*.py"), *(REPO / "benchmarks").glob("*.py")]


def test_no_private_attribute_of_the_libraries_is_touched():
    bad = [f"{p.relative_to(REPO)}:{i}: {what}" for p in code_files()
           for i, line in enumerate(p.read_text().splitlines(), 1) for rx, what in PRIVATE
           if rx.search(line.split("#")[0])]
    assert not bad, "use the libraries' public hooks instead:\n" + "\n".join(bad)


@pytest.mark.parametrize("line", ["model.__dict__.pop('forward')", "acc.native_amp = False",
                                  "trainer.args.train_sampling_strategy = 'sequential'",
                                  "x, trainer.args.per_device_eval_batch_size = 1, 2"])
def test_the_private_attribute_check_catches(line):
    assert any(rx.search(line) for rx, _ in PRIVATE)
