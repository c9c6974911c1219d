"""--answerability_head_weight W: a second head on the first token's final hidden state that says whether this
window holds the answer, trained with the span loss (loss = span loss + W x binary cross-entropy) and added to
the span null score where answers are chosen (bertkit/qa/postprocess.py: null odds minus its logit, the window
surest of an answer deciding), as "verifier" readers do (Hu et al. 2019, Read + Verify; Zhang et al. 2021,
Retro-Reader).

Transformers' *ForQuestionAnswering classes have no such head, so it is ours, kept beside the model rather than
in a class of our own: a submodule `answerability_head` of the loaded model (the Trainer's optimizer, devices,
checkpoints and resume treat it as any weight), fed by a forward pre-hook on the QA head's input (the sequence
output every *ForQuestionAnswering passes to qa_outputs), and written to its own file in the final model folder,
so the folder still loads as a plain AutoModelForQuestionAnswering anywhere (load_qa_model re-attaches it).
"""
from __future__ import annotations

import contextlib
from pathlib import Path

import torch

from ..errors import UserError

NAME = "answerability_head"  # the submodule, and the key prefix inside a checkpoint's model.safetensors
FILE = "answerability_head.safetensors"  # beside model.safetensors in a saved model folder


class AnswerabilityHead(torch.nn.Module):
    """Linear on the first token's final hidden state (CLS / <s>): one logit per window, "the answer is here".
    `logits` holds the latest forward's (set by the pre-hook on qa_outputs)."""

    def __init__(self, hidden_size: int):
        super().__init__()
        self.dense = torch.nn.Linear(hidden_size, 1)
        self.logits = None

    def forward(self, sequence_output):
        return self.dense(sequence_output[:, 0]).squeeze(-1)


def head_of(model) -> AnswerabilityHead | None:
    return getattr(model, NAME, None)


def attach(model, state: dict | None = None) -> AnswerabilityHead:
    """Give `model` an answerability head (new, or with the weights in `state`); returns it."""
    if head_of(model) is not None:
        return head_of(model)
    qa = getattr(model, "qa_outputs", None)
    if not isinstance(qa, torch.nn.Module):
        raise UserError(f"--answerability_head_weight: {type(model).__name__} has no qa_outputs layer to read the "
                        "first token from; leave the flag out for this model")
    p = next(model.parameters())
    head = AnswerabilityHead(model.config.hidden_size).to(device=p.device, dtype=p.dtype)
    if state:
        head.load_state_dict(state)
    model.add_module(NAME, head)

    def keep_logits(module, args):
        head.logits = head(args[0])
    qa.register_forward_pre_hook(keep_logits)
    return head


def attach_saved(model, folder) -> AnswerabilityHead | None:
    """Re-attach the head a model folder was saved with: its own file, or (a checkpoint-N folder) the prefixed
    keys inside model.safetensors. None where it has none."""
    from safetensors import safe_open
    from safetensors.torch import load_file
    folder = Path(str(folder))
    if (folder / FILE).is_file():
        return attach(model, load_file(str(folder / FILE)))
    weights = folder / "model.safetensors"
    if weights.is_file():
        with safe_open(str(weights), "pt") as f:
            state = {k[len(NAME) + 1:]: f.get_tensor(k) for k in f.keys() if k.startswith(NAME + ".")}
        if state:
            return attach(model, state)
    return None


@contextlib.contextmanager
def saved_apart(model, folder, write: bool = True):
    """Inside the block the model has no head (save_pretrained writes a plain model); after it, the head is back
    and (`write`: the process that saves) its own file is written beside the model."""
    head = head_of(model)
    if head is None:
        yield
        return
    from safetensors.torch import save_file
    delattr(model, NAME)
    try:
        yield
    finally:
        model.add_module(NAME, head)
    if not write:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    tmp = Path(folder) / (FILE + ".tmp")
    save_file({k: v.detach().contiguous().cpu() for k, v in head.state_dict().items()}, str(tmp))
    tmp.replace(Path(folder) / FILE)


def window_logits(model):
    """The head's logits of the latest forward as a float numpy array (None without a head)."""
    head = head_of(model)
    if head is None or head.logits is None:
        return None
    out = head.logits.detach().float().cpu().numpy()
    head.logits = None
    return out
