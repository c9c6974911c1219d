"""Shared, pure steps of the fine-tuning scripts, one folder per concern (CONTRIBUTING.md, "Layout").

Imports only point down: serve/, report/ -> qa/, classify/ -> train/ -> data/, results/ -> errors.py.
"""
