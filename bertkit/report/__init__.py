"""Reports over every task's results: results/summary.md and its plots, before/after tables, model cards."""
