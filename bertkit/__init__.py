"""Shared, pure steps for the BERT fine-tuning scripts: data, features, postprocess, scoring, report."""
