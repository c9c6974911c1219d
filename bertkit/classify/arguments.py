"""run_imdb.py's data flags (DataArguments); classify.py takes its defaults from here too. No heavy imports:
classify.py reads them before it loads anything."""
from __future__ import annotations

from dataclasses import dataclass, field

TRUNCATIONS = ("head", "head_tail")  # bertkit/classify/encode.py's two ways to fit a long review


@dataclass
class DataArguments:
    dataset_name: str | None = field(default=None, metadata={"help": "Hub dataset, e.g. imdb."})
    train_file: str | None = field(default=None, metadata={"help": "CSV or JSONL (.gz ok) with text and label."})
    validation_file: str | None = field(default=None, metadata={"help": "Default: held out of train."})
    test_file: str | None = None
    text_column: str = "text"
    label_column: str = "label"
    validation_size: int = field(default=1000, metadata={"help": "Reviews held out of train when no validation file."})
    max_train_samples: int | None = field(default=None, metadata={"help": "Stratified seeded subset."})
    max_eval_samples: int | None = field(default=None, metadata={"help": "Stratified seeded subset of validation."})
    max_predict_samples: int | None = field(default=None, metadata={"help": "Stratified seeded subset of test."})
    max_seq_length: int = 256
    truncation: str = field(default="head_tail", metadata={"help": "head (first tokens) or head_tail (first+last)."})
    preprocessing_num_workers: int | None = None
    results_file: str | None = field(default=None, metadata={"help": "Default results/<output_dir name>.json."})
