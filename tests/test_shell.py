"""The shell scripts run on macOS too: bash 3.2 (its /bin/bash) and BSD tools, not only bash 5 and GNU ones.

No bash 3.2 can be installed here, so the constructs it lacks are found by reading the scripts (each rule was
checked to catch a line written to break it: tests/test_shell.py::test_the_lint_catches_each_construct), and
shellcheck (Debian's, installed by scripts/test.sh where it runs as root) reads them for everything else.
"""
import re
import shutil
import subprocess

import pytest

from conftest import REPO

SCRIPTS = sorted([*(REPO / "scripts").glob("*.sh"), *(REPO / "scripts" / "accelerate").glob("*.sbatch"),
                  REPO / ".ci" / "run"])
# bash 4+ only (bash 3.2 stops with a syntax error or a wrong result), and GNU-only tools or flags (macOS has BSD ones)
BASH4 = {
    r"\b(mapfile|readarray)\b": "mapfile/readarray (bash 4): read lines in a while-read loop",
    r"\b(declare|local|typeset)\s+-[a-zA-Z]*[An]": "declare -A / -n (bash 4): use plain variables",
    r"\$\{[#!]?[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?(,,?|\^\^?)[^}]*\}": "${x,,} / ${x^^} (bash 4): use tr",
    r"&>>": "&>> (bash 4): write >>file 2>&1",
    r"\|&": "|& (bash 4): write 2>&1 |",
    r";;&|;&\s*$": "case fall-through ;& / ;;& (bash 4)",
    r"\bcoproc\b": "coproc (bash 4)",
    r"\[\[\s+-v\s|\btest\s+-v\s": "[[ -v name ]] (bash 4.2): test ${name+x}",
    r"\$\{[A-Za-z_][A-Za-z0-9_]*@[QEPAaKkUuL]\}": "${x@Q} (bash 4.4)",
    r"\$\{[A-Za-z_][A-Za-z0-9_]*\[-[0-9]+\]\}": "negative array index (bash 4.3)",
    r"\bwait\s+-n\b": "wait -n (bash 4.3)",
    r"\bshopt\s+-s\s+(globstar|lastpipe)\b": "shopt globstar/lastpipe (bash 4)",
    r"\$(EPOCHSECONDS|EPOCHREALTIME|BASHPID)\b|\$\{(EPOCHSECONDS|EPOCHREALTIME|BASHPID)\}": "a bash 4/5 variable",
    r"printf\s+['\"]?%\(": "printf %(...)T (bash 4.2): use date",
    r"\{[A-Za-z_][A-Za-z0-9_]*\}[<>]": "{fd}> redirection (bash 4.1)",
}
GNU = {
    r"\bsha256sum\b": "sha256sum (macOS has shasum -a 256): hash with python3's hashlib",
    r"\breadlink\s+-f\b": "readlink -f (GNU): cd \"$(dirname ...)\" && pwd",
    r"\bdate\b[^|;]*%N": "date +%N (GNU): use $SECONDS or python3",
    r"\bdate\s+(-d|--date)\b": "date -d (GNU)",
    r"\bsed\s+(-[a-zA-Z]*i|--in-place)": "sed -i (GNU and BSD differ): write a new file and mv it",
    r"\bstat\s+(-c|--format)\b": "stat -c (GNU)",
    r"\bnproc\b": "nproc (GNU coreutils; macOS: sysctl -n hw.ncpu)",
    r"\bmktemp\s+--": "mktemp --long-flags (GNU)",
    r"(^|[;&|(]\s*|\bthen\s+|\bdo\s+)timeout\s": "timeout (GNU coreutils, not on macOS)",
    r"\bgrep\s+-[a-zA-Z]*P": "grep -P (GNU)",
    r"\bxargs\s+-[a-zA-Z]*r": "xargs -r (GNU)",
    r"\btac\b": "tac (GNU)",
    r"\bsort\s+-[a-zA-Z]*V": "sort -V (GNU)",
    r"\bfind\b.*-printf": "find -printf (GNU)",
    r"\bdu\s+-[a-zA-Z]*b": "du -b (GNU)",
}


def code_lines(text: str):
    """(line number, line) outside comments and here-documents (python snippets fed to python3 are not bash)."""
    heredoc = None
    for i, line in enumerate(text.splitlines(), 1):
        if heredoc:
            if line.strip() == heredoc:
                heredoc = None
            continue
        m = re.search(r"<<-?\s*['\"]?([A-Za-z_]+)['\"]?", line)
        if m:
            heredoc = m.group(1)
        stripped = line.lstrip()
        if stripped.startswith("#"):
            continue
        yield i, re.sub(r"\s#\s.*$", "", line)


def may_be_empty(texts) -> set[str]:
    """Arrays some script can leave empty: X=(), X=("$@"), read -a X, or X=( only expansions )."""
    names = set()
    for text in texts:
        for _, line in code_lines(text):
            for name, body in re.findall(r"\b([A-Za-z_][A-Za-z0-9_]*)=\(([^)]*)\)", line):
                if not body.strip() or all(re.fullmatch(r'"?\$(\{[^}]*\}|@|\*|[A-Za-z_]+)"?', w) for w in body.split()):
                    names.add(name)
            names |= set(re.findall(r"\bread\b[^;|]*\s-a\s+([A-Za-z_][A-Za-z0-9_]*)", line))
    return names


def lint(text: str, empty: set[str]) -> list[str]:
    problems = []
    for i, line in code_lines(text):
        for rule, why in {**BASH4, **GNU}.items():
            if re.search(rule, line):
                problems.append(f"line {i}: {why}: {line.strip()}")
        # "${X[@]}" of an empty X is "unbound variable" under set -u in bash < 4.4: ${X[@]+"${X[@]}"}
        guarded = re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\[[@*]\]\+\"?\$\{\1\[[@*]\]\}\"?\}", "", line)
        for name in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\[[@*]\]\}", guarded):
            if name in empty:
                problems.append(f'line {i}: ${{{name}[@]}} can be empty (unbound under set -u in bash 3.2): '
                                f'write ${{{name}[@]+"${{{name}[@]}}"}}: {line.strip()}')
    return problems


def with_sourced(text: str) -> list[str]:
    """A script and the files it sources (their arrays are its own)."""
    return [text, *((REPO / f).read_text() for f in re.findall(r"^\s*source (scripts/[\w.]+\.sh)", text, re.M))]


def test_scripts_run_on_bash_3_2_and_bsd_tools():
    texts = {p: p.read_text() for p in SCRIPTS}
    problems = [f"{p.relative_to(REPO)} {x}" for p, t in texts.items() for x in lint(t, may_be_empty(with_sourced(t)))]
    assert not problems, "\n".join(problems)
    assert all(t.splitlines()[0] == "#!/usr/bin/env bash" for t in texts.values())  # macOS has no /usr/bin/bash
    assert all(re.search(r"^set -euo pipefail$", t, re.M) for p, t in texts.items()
               if not p.name.endswith("_common.sh") and p.name != "laptop_model.sh")


@pytest.mark.parametrize("line", [
    'mapfile -t xs < f', 'declare -A m', 'echo "${x,,}"', 'echo "${x^^}"', 'cmd &>> log', 'a |& b', 'coproc cat',
    '[[ -v FOO ]]', 'echo ${x@Q}', 'echo ${a[-1]}', 'wait -n', 'sha256sum f', 'readlink -f .', 'date +%s.%N',
    "sed -i 's/a/b/' f", 'stat -c %s f', 'n=$(nproc)', 'mktemp --directory', 'timeout 5 cmd', 'grep -P x f',
    'X=(); run "${X[@]}"', 'read -r -a X <<< "$Y"; run "${X[@]}"', 'X=("$@"); echo "${X[*]}"'])
def test_the_lint_catches_each_construct(line):
    text = "#!/usr/bin/env bash\nset -euo pipefail\n" + line.replace("; ", "\n") + "\n"
    assert lint(text, may_be_empty([text])), line


def test_the_lint_passes_the_portable_forms():
    text = '#!/usr/bin/env bash\nX=()\nrun ${X[@]+"${X[@]}"}\nY=(a "$b")\nrun "${Y[@]}"\necho "$#" "${#X[@]}"\n'
    assert lint(text, may_be_empty([text])) == []


def test_shellcheck_is_clean():
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (scripts/test.sh installs Debian's where it runs as root)")
    p = subprocess.run(["shellcheck", "-x", "--shell=bash", *[str(s.relative_to(REPO)) for s in SCRIPTS]], cwd=REPO,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout[-4000:]
