"""Moved to bertkit.tools.gpu_check (a tool, not training): the old `python -m bertkit.train.gpu_check` says where, in one line."""
import sys

print("error: bertkit.train.gpu_check moved to bertkit.tools.gpu_check; run .venv/bin/python -m bertkit.tools.gpu_check instead",
      file=sys.stderr)
sys.exit(2)
