"""The tokenizers library's environment for entry points that fork."""
import os


def quiet_tokenizer_fork_warning():
    """Tokenizers' own threads off unless TOKENIZERS_PARALLELISM says otherwise: an entry point forks after it
    has tokenised (datasets.map under --preprocessing_num_workers, DataLoader workers), and the library would warn
    in every child and turn them off there anyway. Called first thing in the entry points' main(), not at import."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
