"""Data files and readers: where the data lives, fetching and verifying it, SQuAD and IMDB files as datasets."""
