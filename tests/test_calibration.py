"""Calibration questions (for --null_score_diff_threshold auto) on the real dev file: held out of training."""
import pytest
from transformers import TrainingArguments

from bertkit.qa import arguments as A
from bertkit.qa import steps as S
from bertkit.data.squad import DEV_SPLIT


def questions(dev_file, tmp_path, **kw):
    args = A.DataArguments(protocol="dev-split", validation_file=dev_file, null_score_diff_threshold="auto", **kw)
    targs = TrainingArguments(output_dir=str(tmp_path), seed=42, report_to="none")
    return S.load_questions(args, targs, need_train=True, need_calibration=True)


def test_calibration_questions_are_never_trained_on_and_do_not_move(dev_file, tmp_path):
    full = questions(dev_file, tmp_path, calibration_samples=400)
    small = questions(dev_file, tmp_path, calibration_samples=400, max_train_samples=3200,
                      max_train_unanswerable_fraction=0.2)
    cal, tr, ev = (set(full[k]["id"]) for k in ("calibration", "train", "validation"))
    assert len(cal) >= 400 and not cal & tr and not cal & ev and len(cal) + len(tr) == 8017
    lo, hi = DEV_SPLIT["train_articles"]
    assert all(lo <= a <= hi for a in full["calibration"]["article_index"])  # from the training side
    # whole articles are held out: no calibration article is trained on (the eval articles are new too)
    arts = set(full["calibration"]["article_index"])
    assert not arts & set(full["train"]["article_index"]) and not arts & set(small["train"]["article_index"])
    # the training subset is drawn after the hold-out: the same calibration set, and none of it trained on
    assert set(small["calibration"]["id"]) == cal and not cal & set(small["train"]["id"])
    assert len(small["train"]) == 3200
    # its answerable share is the training side's own (about half), not the capped training share
    n_ans = sum(1 for a in full["calibration"]["answers"] if a["text"])
    assert 0.35 < n_ans / len(cal) < 0.65


def test_calibration_by_paragraph_holds_out_whole_paragraphs(dev_file, tmp_path):
    full = questions(dev_file, tmp_path, calibration_samples=400, calibration_unit="paragraph")
    assert len(full["calibration"]) == 400
    assert not set(full["calibration"]["context"]) & set(full["train"]["context"])
    assert 8017 - 400 - len(full["train"]) < 40  # the last paragraph's other questions: held out, unused


def test_too_many_calibration_questions_is_one_clear_error(dev_file, tmp_path):
    from bertkit.errors import UserError
    with pytest.raises(UserError, match="leaves no training questions"):
        questions(dev_file, tmp_path, calibration_samples=10**6)


def test_saved_threshold_file(tmp_path):
    from bertkit.errors import UserError
    assert A.saved_threshold(tmp_path) is None  # a model folder without one: 0.0 / calibrate, never an error
    (tmp_path / A.THRESHOLD_FILE).write_text('{"value": -2.5, "method": "calibrated"}')
    assert A.saved_threshold(tmp_path)["value"] == -2.5
    (tmp_path / A.THRESHOLD_FILE).write_text('{"value": "high"')
    with pytest.raises(UserError, match="not a threshold file"):
        A.saved_threshold(tmp_path)
