"""--weight_average_share: the saved weights are the mean over the last share of the steps, a resumed run goes on
with the checkpoint's mean, frozen weights are left alone, bad values are one error line."""
import logging
from types import SimpleNamespace

import pytest
import torch

from bertkit.errors import UserError
from bertkit.train.averaging import FILE, check_share, first_step, weight_average


def steps(cb, model, state, args, upto, start=1, save_at=None):
    """Optimizer steps start..upto: step k sets the trainable weights to k."""
    for k in range(start, upto + 1):
        with torch.no_grad():
            model[0].weight.fill_(k)
        state.global_step = k
        cb.on_step_end(args, state, None, model=model)
        if k == save_at:
            (args.output_dir / f"checkpoint-{k}").mkdir()
            cb.on_save(args, state, None)


def fresh(max_steps):
    from transformers import TrainerState
    model = torch.nn.Sequential(torch.nn.Linear(3, 2, bias=False), torch.nn.Linear(2, 1, bias=False))
    model[1].weight.requires_grad_(False)  # frozen: never averaged, never overwritten
    with torch.no_grad():
        model[1].weight.fill_(-7)
    return model, TrainerState(max_steps=max_steps, global_step=0)


def test_mean_of_the_last_share_and_resume(tmp_path, caplog):
    args = SimpleNamespace(output_dir=tmp_path)
    assert first_step(10, 0.3) == 8 and first_step(10, 1) == 1 and first_step(3, 0.01) == 3
    model, state = fresh(10)
    cb = weight_average(0.3)
    cb.on_train_begin(args, state, None, model=model)
    steps(cb, model, state, args, 10, save_at=9)
    cb.on_train_end(args, state, None, model=model)
    assert torch.all(model[0].weight == 9.0) and torch.all(model[1].weight == -7)  # mean of 8, 9, 10
    assert cb.averaged == {"share": 0.3, "first_step": 8, "last_step": 10, "steps_averaged": 3}
    # resumed from checkpoint-9 (the mean of steps 8 and 9 saved there), same schedule: the same mean at the end
    model, state = fresh(10)
    state.global_step = 9
    cb = weight_average(0.3, resume=str(tmp_path / "checkpoint-9"))
    cb.on_train_begin(args, state, None, model=model)
    steps(cb, model, state, args, 10, start=10)
    cb.on_train_end(args, state, None, model=model)
    assert torch.all(model[0].weight == 9.0) and cb.averaged["steps_averaged"] == 3
    assert (tmp_path / "checkpoint-9" / FILE).is_file()
    # another schedule (20 steps: averaging from step 15) cannot reuse it: starts again, says so
    model, state = fresh(20)
    state.global_step = 9
    cb = weight_average(0.3, resume=str(tmp_path / "checkpoint-9"))
    with caplog.at_level(logging.WARNING):
        cb.on_train_begin(args, state, None, model=model)
    assert "starts again at step 15" in caplog.text
    steps(cb, model, state, args, 20, start=10)
    cb.on_train_end(args, state, None, model=model)
    assert torch.all(model[0].weight == 17.5) and cb.averaged["steps_averaged"] == 6


@pytest.mark.parametrize("share,best,needle", [(0, False, "not in (0, 1]"), (1.5, False, "not in (0, 1]"),
                                               (0.3, True, "--load_best_model_at_end")])
def test_bad_share_is_one_error(share, best, needle):
    with pytest.raises(UserError, match=needle.replace("(", r"\(").replace("]", r"\]")):
        check_share(share, best)
    check_share(None, best)
