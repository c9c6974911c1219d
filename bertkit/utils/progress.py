"""Progress of the long steps (tokenising, training, evaluating, post-processing): rate and time left.

Terminal: one line updated in place (at most twice a second). Log file or pipe (stdout not a terminal): one
line per ~10 %, so a log stays short and still says how far a run got and how long it has to go:

    train  30% 336/1120 steps  2.1 steps/s  elapsed 2m40s  left 6m12s  loss 2.31

    for ex in progress(examples, label="post-process", unit="questions"): ...   # any loop
    Trainer(..., callbacks=[ProgressCallback()])                               # training and prediction
    run_banner(model=..., data=..., device=..., precision=...)                 # what the run uses, up front

Works with --disable_tqdm true (the Trainer then prints only its log dicts). Besides the standard library only
ProgressCallback's base class is imported (transformers' TrainerCallback, where transformers is installed).
"""
from __future__ import annotations

import sys
import time

_open_line = None  # the Progress whose line a terminal shows unfinished (no newline yet), if any


def fmt_duration(seconds: float) -> str:
    s = round(max(seconds, 0))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def fmt_rate(rate: float) -> str:
    return f"{rate:.0f}" if rate >= 10 else f"{rate:.1f}" if rate >= 1 else f"{rate:.2g}"


class Progress:
    """A count towards `total` (None: unknown) under `label`, printed by the rules above.

    start: the count already done when timing starts (a resumed training), so the rate counts only this run.
    stream: default sys.stdout at each write (so redirection and test capture work); tty: default stream.isatty().
    """

    def __init__(self, label: str, total: int | None, unit: str = "items", start: int = 0, stream=None,
                 tty: bool | None = None, min_interval: float = 0.5, clock=time.monotonic, enabled: bool = True):
        self.label, self.total, self.unit, self.start, self.enabled = label, total, unit, start, enabled
        self._stream, self._tty, self.min_interval, self.clock = stream, tty, min_interval, clock
        self.t0 = clock()
        self.done = start
        self._base = (start, self.t0)  # the rate counts from here
        self.extra = ""
        self._last_write = None
        self._last_tenth = int(10 * start / total) if total else 0  # a resumed run reports from where it is
        self._last_unknown = self.t0
        self.closed = False

    @property
    def stream(self):
        return self._stream or sys.stdout

    @property
    def tty(self) -> bool:
        if self._tty is not None:
            return self._tty
        try:
            return self.stream.isatty()
        except (AttributeError, ValueError):
            return False

    def rate_from(self, done: int):
        """Count the rate from `done` now: work before it took a time we do not know (see on_prediction_step)."""
        self._base = (done, self.clock())

    def line(self) -> str:
        now = self.clock()
        elapsed = now - self.t0
        rate = (self.done - self._base[0]) / (now - self._base[1]) if now > self._base[1] else 0.0
        if self.total:
            parts = [f"{self.label} {100 * self.done / self.total:3.0f}% {self.done}/{self.total} {self.unit}"]
        else:
            parts = [f"{self.label} {self.done} {self.unit}"]
        if rate > 0:
            parts.append(f"{fmt_rate(rate)} {self.unit}/s")
        parts.append(f"elapsed {fmt_duration(elapsed)}")
        if self.total and rate > 0:
            parts.append(f"left {fmt_duration((self.total - self.done) / rate)}")
        if self.extra:
            parts.append(self.extra)
        return "  ".join(parts)

    def update(self, done: int, extra: str | None = None):
        """Set the count to `done` (absolute, not an increment) and print if the rules say so."""
        self.done = done
        if extra is not None:
            self.extra = extra
        now = self.clock()
        finished = self.total is not None and done >= self.total
        if self.tty:
            if finished or self._last_write is None or now - self._last_write >= self.min_interval:
                self._write(in_place=True)
        elif self.total:
            tenth = int(10 * min(done, self.total) / self.total)
            if tenth > self._last_tenth:  # one line per 10 % crossed (a jump over several: one line)
                self._last_tenth = tenth
                self._write(in_place=False)
        elif now - self._last_unknown >= 30:  # unknown total in a log: a line every 30 s
            self._last_unknown = now
            self._write(in_place=False)

    def close(self):
        """End the line on a terminal; in a log, print the last line if 100 % was never reached (stopped early)."""
        global _open_line
        if self.closed:
            return
        self.closed = True
        if self.tty:
            self._write(in_place=True)
            if _open_line is self:
                self.stream.write("\n")
                self.stream.flush()
                _open_line = None
        elif self.total is None or self._last_tenth < 10:
            self._write(in_place=False)

    def _write(self, in_place: bool):
        global _open_line
        if not self.enabled:  # e.g. not the main process: every process counts, one prints
            return
        self._last_write = self.clock()
        s = self.stream
        if _open_line is not None and _open_line is not self:
            s.write("\n")  # another bar's line is unfinished on the terminal: keep it, start our own
            _open_line = None
        if in_place:
            s.write("\r" + self.line() + "\x1b[K")  # \x1b[K: clear what a longer previous line left
            _open_line = self
        else:
            s.write(self.line() + "\n")
        s.flush()


def progress(iterable, total: int | None = None, label: str = "", unit: str = "items", **kwargs):
    """Yield from `iterable`, counting each item done when the loop asks for the next one."""
    if total is None:
        try:
            total = len(iterable)
        except TypeError:
            total = None
    bar = Progress(label, total, unit, **kwargs)
    n = 0
    try:
        for item in iterable:
            yield item
            n += 1
            bar.update(n)
    finally:
        bar.close()


def run_banner(model: str, data: str, device: str, precision: str, stream=None, **more) -> str:
    """One short block saying what the run uses, printed before the work starts; returns the text."""
    rows = {"model": model, "data": data, "device": device, "precision": precision, **more}
    width = max(len(k) for k in rows)
    text = "\n".join(["== run " + "=" * 60, *(f"{k:<{width}}  {v}" for k, v in rows.items()), "=" * 67])
    s = stream or sys.stdout
    s.write(text + "\n")
    s.flush()
    return text


def run_banner_for(training_args, model_info: dict, model_path, data: str, **more) -> str | None:
    """run_banner from what every run script has (its model's provenance, its resolved TrainingArguments);
    one process per machine prints it, the others return None."""
    if training_args.local_process_index != 0:
        return None
    a = training_args
    n = model_info.get("n_parameters")
    device, precision = device_and_precision(a)
    length = f"{a.max_steps} steps" if (getattr(a, "max_steps", 0) or 0) > 0 else f"{a.num_train_epochs:g} epochs"
    recipe = (f"{length}, batch {a.per_device_train_batch_size} x {a.gradient_accumulation_steps} "
              f"accumulation x {a.world_size} processes, lr {a.learning_rate:g}") if a.do_train else "no training"
    return run_banner(model=str(model_info.get("package") or model_path) + (f" ({n / 1e6:.1f}M parameters)" if n else ""),
                      data=data, device=device, precision=precision, recipe=recipe, **more)


def device_and_precision(training_args) -> tuple[str, str]:
    """What a resolved TrainingArguments will run on, in words (for run_banner)."""
    import torch
    a = training_args
    dev = a.device
    procs = f" x {a.world_size} processes" if a.world_size > 1 else ""
    if dev.type == "cuda":
        device = f"{torch.cuda.get_device_name(dev)} (cuda){procs}"
    else:
        device = f"{dev.type} ({torch.get_num_threads()} threads){procs}"
    precision = "bf16 autocast, fp32 weights" if a.bf16 else "fp16 autocast, fp32 weights" if a.fp16 else "fp32"
    if a.tf32:
        precision += ", TF32 matmuls"
    if dev.type != "cuda" and (a.bf16 or a.fp16):
        precision += " (training; predictions in fp32)"
    return device, precision


def install(trainer, callback: ProgressCallback | None = None) -> ProgressCallback:
    """Give a built Trainer these progress lines (same output with or without --disable_tqdm): transformers'
    tqdm bars, which write \\r-updates into log files, make way for its plain log printer plus ours."""
    from transformers.trainer_callback import PrinterCallback
    from transformers.trainer_callback import ProgressCallback as TqdmProgress
    if any(isinstance(c, TqdmProgress) for c in trainer.callback_handler.callbacks):
        trainer.remove_callback(TqdmProgress)
        trainer.add_callback(PrinterCallback)
    callback = callback or ProgressCallback()
    trainer.add_callback(callback)
    return callback


def _trainer_callback_base():
    try:
        from transformers import TrainerCallback
        return TrainerCallback
    except ImportError:  # stdlib-only use (progress, run_banner) never needs it
        return object


class ProgressCallback(_trainer_callback_base()):
    """Trainer callback: training steps (with the last logged loss) and prediction batches.

    `predict_label` names the next prediction ("baseline test", "validation", ...); the default is "eval"
    inside training and "predict" outside. Only the main process prints.
    """

    def __init__(self, predict_label: str | None = None, stream=None, tty: bool | None = None, clock=time.monotonic):
        self.predict_label, self.stream, self.tty, self.clock = predict_label, stream, tty, clock
        self.train_bar = self.predict_bar = None
        self.loss = None

    def _bar(self, label, total, unit, start=0):
        return Progress(label, total, unit, start=start, stream=self.stream, tty=self.tty, clock=self.clock)

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self.train_bar = self._bar("train", state.max_steps or None, "steps", start=state.global_step)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and isinstance(logs.get("loss"), (int, float)):  # the training loss, not eval_loss
            self.loss = logs["loss"]

    def on_step_end(self, args, state, control, **kwargs):
        if self.train_bar is not None:
            self.train_bar.update(state.global_step, f"loss {self.loss:.3g}" if self.loss is not None else "")

    def on_train_end(self, args, state, control, **kwargs):
        if self.train_bar is not None:
            self.train_bar.close()
            self.train_bar = None

    def on_prediction_step(self, args, state, control, eval_dataloader=None, **kwargs):
        if not state.is_world_process_zero:
            return
        if self.predict_bar is None:
            try:
                total = len(eval_dataloader)
            except TypeError:  # None or an iterable dataset: count without a total
                total = None
            label = self.predict_label or ("eval" if self.train_bar is not None else "predict")
            self.predict_bar = self._bar(label, total, "batches")
            self.predict_bar.rate_from(1)  # called after each batch: the first one's start was not seen
        self.predict_bar.update(self.predict_bar.done + 1)

    def _end_prediction(self):
        if self.predict_bar is not None:
            self.predict_bar.close()
            self.predict_bar = None

    def on_evaluate(self, args, state, control, **kwargs):
        self._end_prediction()

    def on_predict(self, args, state, control, **kwargs):
        self._end_prediction()
