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

    def rate(self) -> float:
        """Units per second since the rate's base (rate_from), 0.0 before any time has passed."""
        now = self.clock()
        return (self.done - self._base[0]) / (now - self._base[1]) if now > self._base[1] else 0.0

    def line(self) -> str:
        elapsed = self.clock() - self.t0
        rate = self.rate()
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

    def note(self, text: str):
        """One whole line now, whatever the rules (a terminal's in-place line is ended first)."""
        global _open_line
        if not self.enabled:
            return
        if _open_line is not None:
            self.stream.write("\n")
            _open_line = None
        self.stream.write(text + "\n")
        self.stream.flush()

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

    Training's rate counts from step WARM_STEPS on (the first steps choose kernels, compile, and take the
    longest batch), and after ESTIMATE_STEPS more one line says the rate measured on this machine and when
    training will end: the job's time estimate, measured rather than looked up.

    `predict_label` names the next prediction ("baseline test", "validation", ...); the default is "eval"
    inside training and "predict" outside. Only the main process prints.
    """

    WARM_STEPS, ESTIMATE_STEPS = 20, 100  # 100 steps: group_by_length's batches of long and short windows even out

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
        bar = self.train_bar
        if bar is None:
            return
        bar.update(state.global_step, f"loss {self.loss:.3g}" if self.loss is not None else "")
        done = state.global_step - bar.start
        if done == self.WARM_STEPS:
            bar.rate_from(state.global_step)
        elif done == self.WARM_STEPS + self.ESTIMATE_STEPS and bar.total and state.global_step < bar.total:
            rate, now = bar.rate(), self.clock()
            if rate <= 0:
                return
            per_step = getattr(args, "per_device_train_batch_size", 0) * getattr(args, "gradient_accumulation_steps", 1) \
                * getattr(args, "world_size", 1)
            windows = f" ({fmt_rate(rate * per_step)} windows/s)" if per_step else ""
            left = (bar.total - state.global_step) / rate
            bar.note(f"train: {fmt_rate(rate)} steps/s{windows} measured over steps "
                     f"{state.global_step - self.ESTIMATE_STEPS + 1}-{state.global_step} on this machine: training "
                     f"ends in about {fmt_duration(left)} (about {fmt_duration(now - bar.t0 + left)} in all)")

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
