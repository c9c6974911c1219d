#!/usr/bin/env bash
# The test suite: creates .venv if needed, then runs pytest offline (its time by CPU model: docs/data.md).
#   bash scripts/test.sh               # everything
#   bash scripts/test.sh -k scoring    # pytest arguments pass through
#   bash scripts/test.sh tests/test_scoring.py   # one test file (or tests/x.py::test_y): only what is named
#   PRINT_ONLY=1 bash scripts/test.sh            # the pytest command it would run
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
# Two tests drive Debian tools: the browser test (tests/test_serve.py) chromium, the shell lint
# (tests/test_shell.py) shellcheck. Installed where we may (root with apt-get, as on CI); BROWSER=0 skips
# chromium. Without them those tests skip, saying why.
TOOLS=()
if [ "${BROWSER:-1}" = 1 ] && ! { command -v chromium && command -v chromedriver; } >/dev/null 2>&1; then
  TOOLS+=(chromium chromium-driver)
fi
if ! command -v shellcheck >/dev/null 2>&1; then TOOLS+=(shellcheck); fi
if [ ${#TOOLS[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "+ apt-get install ${TOOLS[*]+${TOOLS[*]}} (for the browser test and the shell lint)"
  if [ "${PRINT_ONLY:-0}" != 1 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${TOOLS[@]+"${TOOLS[@]}"} >/dev/null) \
      || echo "warning: ${TOOLS[*]+${TOOLS[*]}} could not be installed: the tests that need them will skip" >&2
  fi
fi
where=(tests)  # the whole suite, unless a test file or test id is named
for a in "$@"; do case "$a" in tests/*|*.py|*::*) where=() ;; esac; done
run python -m pytest ${where[@]+"${where[@]}"} -ra --durations=10 "$@"
