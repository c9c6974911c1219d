"""Every command line the project documents, with where it is: the ```bash blocks of README.md, CONTRIBUTING.md
and docs/*.md, the usage lines of each command's docstring (its --help), the header comments of the shell
scripts, and the commands in the committed model cards and result pages. tests/test_layout.py checks them
statically, tests/test_fresh_shell.py runs them in a new terminal's environment.
"""
from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", REPO / "CONTRIBUTING.md", *sorted((REPO / "docs").glob("*.md"))]
# what a documented command starts with, after any VAR=value prefixes
STARTS = r"(?:\.venv/bin/(?:python|accelerate)|python3?|pip3?|bash|source|accelerate|curl|sbatch|grep|mkdir)"
TOOL_NAMES = {"accelerate launch", "accelerate launch ..."}  # prose naming the launcher, not a command
COMMAND = re.compile(rf"^(?:[A-Z_][A-Z0-9_]*=\S*\s+)*{STARTS}\s")


def _joined(lines):
    """(line number, text) with backslash-continued lines joined into the line they start on."""
    out, buf, start = [], "", 0
    for i, line in lines:
        if not buf:
            start = i
        if line.rstrip().endswith("\\"):
            buf += line.rstrip()[:-1].strip() + " "
            continue
        out.append((start, (buf + line.strip()).strip()))
        buf = ""
    return out


def markdown_blocks(md: Path):
    """(line, text) of each command line in the ```bash/sh blocks of a markdown file."""
    block, lines = None, []
    for i, line in enumerate(md.read_text().splitlines(), 1):
        if line.startswith("```"):
            block = line[3:].strip() if block is None else None
            continue
        if block in ("bash", "sh", "shell") and line.strip() and not line.lstrip().startswith("#"):
            lines.append((i, line))
    return _joined(lines)


def docstring_commands(py: Path):
    """(line, text) of the usage lines in a command's module docstring (what --help shows)."""
    tree = ast.parse(py.read_text())
    doc = ast.get_docstring(tree, clean=False)
    if not doc or not tree.body:
        return []
    first = tree.body[0].lineno
    lines = [(first + n, ln) for n, ln in enumerate(doc.splitlines())]
    return [(i, t) for i, t in _joined([(i, ln) for i, ln in lines if ln.startswith(" ")]) if COMMAND.match(t)]


def script_header_commands(sh: Path):
    """(line, text) of the usage lines in a shell script's header comment (`#   command`)."""
    lines = []
    for i, line in enumerate(sh.read_text().splitlines(), 1):
        if i == 1 and line.startswith("#!"):
            continue
        if not line.startswith("#"):
            break
        m = re.match(r"#\s{2,}(\S.*)$", line)
        if m:
            lines.append((i, m.group(1)))
    return [(i, strip_comment(t)) for i, t in _joined(lines) if COMMAND.match(t)]


def inline_commands(md: Path):
    """(line, text) of the `code spans` of a markdown file that are commands (checked for the bare-python rule)."""
    text = re.sub(r"```.*?```", lambda m: "\n" * m.group(0).count("\n"), md.read_text(), flags=re.S)
    return [(n, span) for n, line in enumerate(text.splitlines(), 1) for span in re.findall(r"`([^`]+)`", line)
            if COMMAND.match(span) and span not in TOOL_NAMES]


def strip_comment(text: str) -> str:
    """The command without a trailing `# comment` (shell rules: a # that starts a word, outside quotes)."""
    quote, prev = None, " "
    for i, c in enumerate(text):
        if quote:
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "#" and prev.isspace():
            return text[:i].rstrip()
        prev = c
    return text.rstrip()


def python_sources():
    """The files whose docstrings are --help texts: the commands, the benchmarks, the runnable modules."""
    mods = [p for p in (REPO / "bertkit").rglob("*.py") if "__main__" in p.read_text()]
    return sorted([*REPO.glob("*.py"), *(REPO / "benchmarks").glob("*.py"), *mods])


def shell_sources():
    return sorted([*(REPO / "scripts").glob("*.sh"), *(REPO / "scripts" / "accelerate").glob("*.sbatch")])


def documented():
    """Every documented command line: (path relative to the repository, line, text without its comment)."""
    out = []
    for md in DOCS:
        out += [(md, i, strip_comment(t)) for i, t in markdown_blocks(md)]
    for py in python_sources():
        out += [(py, i, strip_comment(t)) for i, t in docstring_commands(py)]
    for sh in shell_sources():
        out += [(sh, i, t) for i, t in script_header_commands(sh)]
    return [(p.relative_to(REPO).as_posix(), i, t) for p, i, t in out if t]


def written_pages():
    """The pages the project writes and commits (model cards, summary, READMEs under results/)."""
    return sorted((REPO / "results").rglob("*.md"))


def words(text: str) -> list[str]:
    try:
        return shlex.split(text, comments=True)
    except ValueError:
        return text.split()


def segments(text: str) -> list[list[str]]:
    """The simple commands of a line, split at && ; | ||."""
    out, seg = [], []
    for w in words(text) + [";"]:
        if w in ("&&", ";", "|", "||"):
            if seg:
                out.append(seg)
            seg = []
        else:
            seg.append(w)
    return out
