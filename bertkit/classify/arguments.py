"""The data flags of run_classification.py and run_imdb.py (DataArguments); classify.py takes its defaults from here
too. No heavy imports: classify.py reads them before it loads anything."""
from __future__ import annotations

from dataclasses import dataclass, field

TRUNCATIONS = ("head", "head_tail")  # bertkit/classify/encode.py's two ways to fit a long review


@dataclass
class DataArguments:
    dataset_name: str | None = field(default=None, metadata={"help": "Hub dataset, e.g. imdb (needs the hub)."})
    dataset_config_name: str | None = field(default=None, metadata={"help": "The hub dataset's configuration."})
    train_file: str | None = field(default=None, metadata={
        "help": "CSV, TSV, JSONL (.gz ok), Parquet or a datasets save_to_disk folder with text and label."})
    validation_file: str | None = field(default=None, metadata={"help": "Default: held out of train."})
    test_file: str | None = None
    text_column: str = "text"
    text_pair_column: str | None = field(default=None, metadata={
        "help": "A second text per row (premise/hypothesis, question/passage): the model reads the pair."})
    label_column: str = "label"
    multi_label: bool = field(default=False, metadata={
        "help": "Several labels per row (a list, or one cell split on --label_delimiter); sigmoid per label."})
    label_delimiter: str = field(default=",", metadata={"help": "What separates a --multi_label cell's labels."})
    multi_label_threshold: float = field(default=0.5, metadata={
        "help": "--multi_label: a label is predicted where its probability reaches this."})
    validation_size: int = field(default=1000, metadata={"help": "Rows held out of train when no validation file."})
    max_train_samples: int | None = field(default=None, metadata={"help": "Stratified seeded subset."})
    max_eval_samples: int | None = field(default=None, metadata={"help": "Stratified seeded subset of validation."})
    max_predict_samples: int | None = field(default=None, metadata={"help": "Stratified seeded subset of test."})
    max_seq_length: int = 256
    truncation: str = field(default="head_tail", metadata={"help": "head (first tokens) or head_tail (first+last)."})
    preprocessing_num_workers: int | None = None
    results_file: str | None = field(default=None, metadata={"help": "Default results/<output_dir name>.json."})
