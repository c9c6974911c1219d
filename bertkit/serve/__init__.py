"""Serving a fine-tuned model: the request checks and model holder, the page, a client for tests and benchmarks."""
