#!/usr/bin/env bash
# The test suite: creates .venv if needed, then runs pytest offline (~12-31 min on 2 CPU cores, by CPU model).
#   bash scripts/test.sh               # everything
#   bash scripts/test.sh -k scoring    # pytest arguments pass through
#   bash scripts/test.sh tests/test_scoring.py   # one test file (or tests/x.py::test_y): only what is named
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
# The browser test (tests/test_serve.py) drives Debian's chromium; install it where we may (root with apt-get,
# as on CI). BROWSER=0 skips this; without chromium that one test skips, saying why.
if [ "${BROWSER:-1}" = 1 ] && ! { command -v chromium && command -v chromedriver; } >/dev/null 2>&1 && [ "$(id -u)" = 0 ] \
   && command -v apt-get >/dev/null 2>&1; then
  echo "+ apt-get install chromium chromium-driver (for the browser test)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
    || echo "warning: chromium could not be installed: the browser test will skip" >&2
fi
where=(tests)  # the whole suite, unless a test file or test id is named
for a in "$@"; do case "$a" in tests/*|*.py|*::*) where=() ;; esac; done
echo "+ python -m pytest ${where[*]} $*"
python -m pytest "${where[@]}" -ra --durations=10 "$@"
