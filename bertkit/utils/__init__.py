"""Utilities every layer may use: progress lines with rate and time left (stdlib only)."""
