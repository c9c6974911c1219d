"""Training order for small budgets: span windows first, no-answer windows late in the epoch.

On a CPU budget (one epoch of a few thousand questions) a model that sees many no-answer windows early learns
the cheap "no answer" prior and never learns spans (measured: results/tuning/README.md). Ordering lets it
learn spans first, at the high early learning rate, and then which questions have no answer, with the rate
already decaying. Windows are grouped by length within each phase (as group_by_length does) to keep padding low.
"""
from __future__ import annotations

import numpy as np


def no_answer_last(start_positions, lengths, late_share: float, batch_size: int, seed: int,
                   megabatch: int = 50) -> tuple[list[int], dict]:
    """A window order: every no-answer window (label 0, the CLS position) in the last `late_share` of the
    epoch, filled up with span windows if there are fewer; those beyond it go early. Returns (order, record)."""
    labels = np.asarray(start_positions)
    lengths = np.asarray(lengths)
    rng = np.random.default_rng([seed, 2])
    null, span = np.flatnonzero(labels == 0), np.flatnonzero(labels != 0)
    rng.shuffle(null)
    rng.shuffle(span)
    n_late = int(round(late_share * len(labels)))
    late_null = null[:n_late]
    late = np.concatenate([late_null, span[:max(0, n_late - len(late_null))]])
    early = np.concatenate([span[len(late) - len(late_null):], null[len(late_null):]])
    order = []
    for phase in (early, late):
        phase = phase[rng.permutation(len(phase))]
        size = megabatch * batch_size
        for i in range(0, len(phase), size):  # longest first within each mega-batch: batches of similar length
            chunk = phase[i:i + size]
            order.extend(chunk[np.argsort(-lengths[chunk], kind="stable")].tolist())
    record = {"late_no_answer_share": late_share, "early_windows": len(early), "late_windows": len(late),
              "early_no_answer_windows": int(len(null) - len(late_null)), "late_no_answer_windows": int(len(late_null))}
    return order, record
