"""--weight_average_share S: the model saved (and evaluated) is the mean of its weights after each of the last
S of the optimizer steps (checkpoint averaging, one step apart), not the weights of the last step alone.

Why: on the laptop job the no-answer decision of the last weights moves with the seed more than its spans do
(issue 30); a mean over the tail of training is a flatter, steadier point. A TrainerCallback of our own because
torch.optim.swa_utils.AveragedModel keeps a second whole model (buffers, a deep copy) and needs its own save path;
this keeps one fp32 copy of the trained weights only, written into each checkpoint so a resumed run goes on with
the same mean.
"""
from __future__ import annotations

import logging
import math
from pathlib import Path

from ..errors import UserError

log = logging.getLogger(__name__)

FILE = "weight_average.safetensors"  # in each checkpoint-N folder: the running mean and how many steps it holds


def check_share(share: float | None, load_best_model_at_end: bool = False) -> None:
    if share is None:
        return
    if not 0 < share <= 1:
        raise UserError(f"--weight_average_share {share} is not in (0, 1]; e.g. 0.3 averages the last 30 % of the steps")
    if load_best_model_at_end:
        raise UserError("--weight_average_share and --load_best_model_at_end both choose the saved weights; "
                        "give one of them")


def first_step(max_steps: int, share: float) -> int:
    """The first optimizer step (1-based) whose weights join the mean."""
    return max(1, max_steps - math.ceil(share * max_steps) + 1)


def weight_average(share: float, resume: str | None = None):
    """A TrainerCallback averaging the trainable weights over the last `share` of the steps; at the end of
    training it puts the mean into the model (before the run saves it). `resume`: the checkpoint folder a resumed
    run starts from (its saved mean is read back)."""
    import torch
    from safetensors.torch import load_file, save_file
    from transformers import TrainerCallback
    from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

    class WeightAverage(TrainerCallback):
        def __init__(self):
            self.mean, self.count, self.start = {}, 0, None
            self.averaged = {"share": share}

        def on_train_begin(self, args, state, control, model=None, **kw):
            self.start = first_step(state.max_steps, share)
            saved = Path(resume) / FILE if resume else None
            if saved is not None and saved.is_file():
                mean = load_file(str(saved))
                count, first = int(mean.pop("__count__").item()), int(mean.pop("__first_step__").item())
                if first == self.start:
                    self.mean, self.count = mean, count
                else:  # another schedule (more epochs, say) than the run that saved it
                    log.warning("%s averaged from step %d, this run from step %d: the weight average starts again "
                                "at step %d", saved, first, self.start, max(self.start, state.global_step + 1))
            elif resume and state.global_step >= self.start:
                log.warning("%s holds no %s: the weight average starts again at step %d", resume, FILE,
                            state.global_step + 1)
            self.averaged.update(first_step=self.start, last_step=state.max_steps)

        def on_step_end(self, args, state, control, model=None, **kw):
            if state.global_step < self.start:
                return
            with torch.no_grad():
                self.count += 1
                for name, p in model.named_parameters():
                    if not p.requires_grad:
                        continue
                    if name not in self.mean:
                        self.mean[name] = p.detach().float().clone()
                    else:  # running mean: m += (p - m) / n
                        self.mean[name].lerp_(p.detach().float(), 1.0 / self.count)

        def on_save(self, args, state, control, **kw):
            if self.count and state.is_world_process_zero:
                folder = Path(args.output_dir) / f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}"  # the one the Trainer just wrote
                tensors = {k: v.contiguous() for k, v in self.mean.items()}
                save_file({**tensors, "__count__": torch.tensor([self.count]),
                           "__first_step__": torch.tensor([self.start])}, str(folder / FILE))

        def on_train_end(self, args, state, control, model=None, **kw):
            if not self.count:
                return
            with torch.no_grad():
                for name, p in model.named_parameters():
                    if name in self.mean:
                        p.copy_(self.mean[name].to(p.dtype))
            self.averaged["steps_averaged"] = self.count
            log.info("the model's weights are the mean of steps %d-%d (%d steps)", state.global_step - self.count + 1,
                     state.global_step, self.count)

    return WeightAverage()
