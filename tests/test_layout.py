"""The layout's rule and the docs' commands, checked statically (no model, no data: about a second).

- bertkit/ imports only point down: serve/, report/ -> qa/, classify/ -> train/ -> data/, results/ -> errors.py,
  and no module is over ~300 lines (CONTRIBUTING.md, "Layout").
- Every command in the README, docs/ and CONTRIBUTING.md names a script, module and flags that exist, with
  environment knobs a script reads; every relative link and #anchor there resolves.
"""
from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PKG = REPO / "bertkit"
# rank: a module may import from its own folder and from folders of a higher rank only
LAYERS = {"serve": 1, "report": 1, "qa": 2, "classify": 2, "train": 3, "data": 4, "results": 4, "errors": 5}
MAX_LINES = 310  # "no module over ~300 lines"
DOCS = [REPO / "README.md", REPO / "CONTRIBUTING.md", *sorted((REPO / "docs").glob("*.md"))]


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


def bash_commands(md: Path):
    """(line, [words]) of each command in the ```bash blocks, continuation lines joined, split at && ; |."""
    block, start, out = None, 0, []
    for i, line in enumerate(md.read_text().splitlines(), 1):
        if line.startswith("```"):
            block, start = (line[3:].strip() if block is None else None), i
            continue
        if block in ("bash", "sh", "shell"):
            out.append((i, line))
    joined, cmds = "", []
    for i, line in out:
        joined += line.rstrip("\\") + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            try:
                words = shlex.split(joined, comments=True)
            except ValueError:
                words = joined.split()
            seg = []
            for w in words + [";"]:
                if w in ("&&", ";", "|", "||"):
                    if seg:
                        cmds.append((i, seg))
                    seg = []
                else:
                    seg.append(w)
            joined = ""
    return cmds


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
    env = []
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
        env.append(words.pop(0).split("=")[0])
    if words[:1] == ["env"]:
        return check_command(words[1:], training_flags)
    problems, script = [], None
    if words[:1] in (["bash"], ["source"]) and len(words) > 1 and words[1].startswith("scripts/"):
        script = REPO / words[1]
        if not script.is_file():
            return [f"{words[1]} does not exist"]
        sh = "\n".join(p.read_text() for p in (REPO / "scripts").glob("*.sh"))
        problems += [f"{words[1]}: {v} is read by no script" for v in env
                     if v not in EXTERNAL_ENV and not re.search(rf"\${{?{v}\b", sh)]
        return problems
    if words[:2] == ["accelerate", "launch"]:  # the script and its flags come after accelerate's own
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


@pytest.mark.parametrize("md", DOCS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_commands_in_the_docs_exist(md, training_flags):
    if not md.is_file():
        pytest.fail(f"{md.relative_to(REPO)} is missing")
    problems = [f"{md.relative_to(REPO)}:{line}: {p}" for line, words in bash_commands(md)
                for p in check_command(list(words), training_flags)]
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
