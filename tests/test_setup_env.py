"""scripts/setup_env.sh on a new machine, as a process in a new terminal's environment: which torch build it
installs and from where (the CPU build without an NVIDIA driver), the Pythons and machines it refuses in one line,
and the fallback when the PyTorch index cannot be reached. No network: PRINT_ONLY=1, or a python3 whose new venv
logs the pip commands instead of running them; an NVIDIA driver and macOS are simulated on PATH.
"""
import hashlib
import shutil
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import REPO, fresh_env

CPU_INDEX = "https://download.pytorch.org/whl/cpu"


@pytest.fixture
def project(tmp_path):
    """A new clone's set-up files: no .venv yet."""
    d = tmp_path / "project"
    shutil.copytree(REPO / "scripts", d / "scripts")
    shutil.copy2(REPO / "requirements.txt", d)
    return d


def tool(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("#!/bin/sh\n" + body)
    (folder / name).chmod(0o755)
    return folder


def setup(project, tmp_path, *, path_first=None, **knobs):
    env = fresh_env(tmp_path, **knobs)
    env.setdefault("NVIDIA_PROC", str(tmp_path / "no_driver"))  # what this machine has must not decide
    if path_first:
        env["PATH"] = f"{path_first}:{env['PATH']}"
    return subprocess.run(["bash", "scripts/setup_env.sh"], cwd=project, env=env, capture_output=True, text=True,
                          timeout=120)


def torch_line(out: str) -> str:
    return next(ln for ln in out.splitlines() if "pip install -q torch==" in ln)


def test_no_nvidia_driver_gets_the_cpu_build(project, tmp_path):
    p = setup(project, tmp_path, PRINT_ONLY=1)
    assert p.returncode == 0, p.stderr
    assert "CPU build, ~200 MB" in p.stdout and f"--index-url {CPU_INDEX}" in torch_line(p.stdout)
    assert p.stdout.index("CPU build") < p.stdout.index("pip install")  # the size is said before installing
    assert "nothing installed" in p.stdout and not (project / ".venv").exists()


@pytest.mark.parametrize("how", ["nvidia-smi", "proc"])
def test_an_nvidia_driver_gets_the_cuda_build_from_pypi(project, tmp_path, how):
    if how == "nvidia-smi":
        p = setup(project, tmp_path, PRINT_ONLY=1, path_first=tool(tmp_path / "gpu", "nvidia-smi", "exit 0\n"))
    else:
        (tmp_path / "driver").mkdir()
        p = setup(project, tmp_path, PRINT_ONLY=1, NVIDIA_PROC=tmp_path / "driver")
    assert p.returncode == 0, p.stderr
    assert "CUDA build, several GB, from PyPI" in p.stdout and "--index-url" not in torch_line(p.stdout)
    assert f"TORCH_INDEX={CPU_INDEX} for the CPU build" in p.stdout


@pytest.mark.parametrize("knob, index", [("pypi", None), ("https://mirror.example/whl/cu128", "https://mirror.example/whl/cu128")])
def test_torch_index_overrides_the_choice(project, tmp_path, knob, index):
    p = setup(project, tmp_path, PRINT_ONLY=1, TORCH_INDEX=knob)
    assert p.returncode == 0, p.stderr
    line = torch_line(p.stdout)
    assert (f"--index-url {index}" in line) if index else "--index-url" not in line


def test_macos_takes_pypi_and_intel_macs_are_refused_in_one_line(project, tmp_path):
    arm = tool(tmp_path / "arm", "uname", 'case "$1" in -m) echo arm64 ;; *) echo Darwin ;; esac\n')
    p = setup(project, tmp_path, PRINT_ONLY=1, path_first=arm)
    assert p.returncode == 0 and "from PyPI (Darwin has no CUDA build)" in p.stdout, p.stdout + p.stderr
    intel = tool(tmp_path / "intel", "uname", 'case "$1" in -m) echo x86_64 ;; *) echo Darwin ;; esac\n')
    p = setup(project, tmp_path, PRINT_ONLY=1, path_first=intel)
    assert p.returncode == 2 and p.stderr.startswith("error: this is macOS on Intel") and len(p.stderr.splitlines()) == 1
    assert not (project / ".venv").exists()


@pytest.mark.parametrize("version", ["3.10", "3.15"])
def test_a_python_the_pins_do_not_install_on_is_refused_in_one_line(project, tmp_path, version):
    fake = tool(tmp_path / "old", "python3.x", f"echo {version}\n") / "python3.x"  # answers only the version
    p = setup(project, tmp_path, PYTHON=fake)
    assert p.returncode == 2 and len(p.stderr.splitlines()) == 1, p.stderr
    assert f"is Python {version}" in p.stderr and "3.11-3.14" in p.stderr and "PYTHON=" in p.stderr
    assert not (project / ".venv").exists()
    p = setup(project, tmp_path, PYTHON="python3.99")
    assert p.returncode == 2 and "python3.99 is not on PATH" in p.stderr and not (project / ".venv").exists()


def logging_python(tmp_path, fail: str = "") -> Path:
    """A python3 that is this one, except that `-m venv DIR` makes a venv whose python logs `-m pip` and installs
    nothing (the rest of set-up runs for real: version check, index probe, hashes, activation); a pip command
    containing `fail` exits 1, as pip does when the network is gone."""
    real, log = sys.executable, tmp_path / "pip.log"
    fails = f'case "$*" in *"{fail}"*) echo "ERROR: No matching distribution" >&2; exit 1 ;; esac\n' if fail else ""
    venv_python = (f'#!/bin/sh\nif [ "$1" = -m ] && [ "$2" = pip ]; then echo "$*" >> {log}; {fails}exit 0; fi\n'
                   f'exec {real} "$@"\n')
    body = (f'if [ "$1" = -m ] && [ "$2" = venv ]; then\n  mkdir -p "$3/bin"\n'
            f"  cat > \"$3/bin/python\" <<'EOF'\n{venv_python}EOF\n"
            '  chmod +x "$3/bin/python"\n  echo "export PATH=\\"$3/bin:\\$PATH\\"" > "$3/bin/activate"\n  exit 0\nfi\n'
            f'exec {real} "$@"\n')
    return tool(tmp_path / "logging", "python3", body) / "python3"


def test_an_unreachable_index_falls_back_to_the_configured_ones(project, tmp_path):
    fake = logging_python(tmp_path)
    p = setup(project, tmp_path, PYTHON=fake, TORCH_CPU_INDEX="http://127.0.0.1:9/whl/cpu")  # refused at once
    assert p.returncode == 0, p.stdout + p.stderr
    said = [ln for ln in p.stdout.splitlines() if "cannot be reached" in ln]
    assert len(said) == 1 and "http://127.0.0.1:9/whl/cpu" in said[0] and "indexes pip is configured with" in said[0]
    pips = (tmp_path / "pip.log").read_text().splitlines()
    torch = next(ln for ln in pips if "torch==" in ln)
    assert "--index-url" not in torch and any("-r" in ln for ln in pips) and any("--no-deps" in ln for ln in pips)
    stamp = (project / ".venv" / ".requirements.sha256").read_text().strip()
    assert stamp == hashlib.sha256((project / "requirements.txt").read_bytes()).hexdigest()  # no sha256sum needed
    assert "ready: .venv/bin/python" in p.stdout


def test_a_reachable_index_is_used(project, tmp_path):
    (tmp_path / "index" / "torch").mkdir(parents=True)
    (tmp_path / "index" / "torch" / "index.html").write_text("<html></html>")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(tmp_path / "index")))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        p = setup(project, tmp_path, PYTHON=logging_python(tmp_path), TORCH_CPU_INDEX=url)
    finally:
        httpd.shutdown()
    assert p.returncode == 0 and "cannot be reached" not in p.stdout, p.stdout + p.stderr
    torch = next(ln for ln in (tmp_path / "pip.log").read_text().splitlines() if "torch==" in ln)
    assert f"--index-url {url}" in torch


def test_a_failed_install_is_one_line_and_leaves_the_venv_unmarked(project, tmp_path):
    p = setup(project, tmp_path, PYTHON=logging_python(tmp_path, fail="-r "), TORCH_INDEX="pypi")
    errors = [ln for ln in p.stderr.splitlines() if ln.startswith("error:")]
    assert p.returncode == 2 and len(errors) == 1 and "requirements.txt: pip could not install it" in errors[0]
    assert "bash scripts/setup_env.sh" in errors[0]
    assert not (project / ".venv" / ".requirements.sha256").exists()  # the next run builds it again
