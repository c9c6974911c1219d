"""Moved to bertkit.tools.laptop (a tool, not training): the old `python -m bertkit.train.laptop` says where, in one line."""
import sys

print("error: bertkit.train.laptop moved to bertkit.tools.laptop; run .venv/bin/python -m bertkit.tools.laptop instead",
      file=sys.stderr)
sys.exit(2)
