"""--late_no_answer_share: every window trained once, no-answer windows in the last part, length-grouped."""
import numpy as np

from bertkit.train.ordering import no_answer_last


def test_no_answer_windows_come_last_and_every_window_once():
    rng = np.random.default_rng(0)
    labels = np.where(rng.random(1000) < 0.3, 0, rng.integers(5, 100, 1000))
    lengths = rng.integers(40, 256, 1000)
    order, rec = no_answer_last(labels, lengths, 0.5, batch_size=16, seed=1)
    assert sorted(order) == list(range(1000))  # a permutation: nothing dropped or repeated
    early, late = order[:rec["early_windows"]], order[rec["early_windows"]:]
    assert len(late) == 500 and all(labels[i] != 0 for i in early)  # all ~300 no-answer windows fit in the late half
    assert rec["late_no_answer_windows"] == int((labels == 0).sum()) and rec["early_no_answer_windows"] == 0
    # longest first within each mega-batch of 50 batches: padding stays low under sequential sampling
    first = [lengths[i] for i in early[:800]]
    assert first == sorted(first, reverse=True)
    assert no_answer_last(labels, lengths, 0.5, 16, seed=1)[0] == order  # seeded


def test_more_no_answer_windows_than_the_late_part_holds():
    labels = np.array([0] * 60 + [7] * 40)
    order, rec = no_answer_last(labels, np.full(100, 50), 0.25, batch_size=4, seed=0)
    late = order[rec["early_windows"]:]
    assert len(late) == 25 and all(labels[i] == 0 for i in late) and rec["early_no_answer_windows"] == 35
    assert sorted(order) == list(range(100))
