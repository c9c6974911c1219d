"""IMDB sentiment: review encoding (head / head+tail truncation), one review's label, the metrics."""
