"""SQuAD 2.0 question answering: features, post-processing, scoring, threshold calibration, inference, the steps."""
