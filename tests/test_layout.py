"""The layout's rule and the docs' commands, checked statically (no model, no data: about a second).

- bertkit/ imports only point down: serve/, report/ -> qa/, classify/ -> train/ -> data/, results/ -> errors.py,
  and no module is over ~300 lines (CONTRIBUTING.md, "Layout").
- Every command in the README, docs/ and CONTRIBUTING.md names a script, module and flags that exist, with
  environment knobs a script reads; every relative link and #anchor there resolves.
"""
from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

from doc_commands import DOCS, documented, inline_commands, segments, written_pages

REPO = Path(__file__).resolve().parents[1]
PKG = REPO / "bertkit"
# rank: a module may import from its own folder and from folders of a higher rank only
LAYERS = {"serve": 1, "report": 1, "qa": 2, "classify": 2, "train": 3, "data": 4, "results": 4, "errors": 5}
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
    if "HfArgumentParser" in text:
        flags |= dataclass_fields(script) | training_flags
        if "ModelArguments" in text:
            flags |= dataclass_fields(PKG / "train" / "modeling.py", {"ModelArguments"})
        if "A.DataArguments" in text:
            flags |= dataclass_fields(PKG / "qa" / "arguments.py", {"DataArguments"})
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
        for a in args:
            flag = a.split("=")[0]
            if flag.startswith("--") and flag not in known and not flag.startswith("--no_"):
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
