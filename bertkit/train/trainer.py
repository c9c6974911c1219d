"""The Trainer every script here uses: Hugging Face's, changed only through the hooks it documents for subclasses.

- Precision on a CPU: bf16 training autocasts here (`autocast_smart_context_manager`, in training steps only),
  not in accelerate's model wrapper (resolve_runtime gives accelerate mixed_precision "no" on a CPU), so every
  prediction (calibration, evaluation, validation during training, the demo) runs in fp32 with the saved
  weights, as ask.py and classify.py do. On a GPU accelerate autocasts, and predictions run as training did.
  `prediction_precision="bf16"` autocasts predictions here too (the weights stay fp32, unlike the Trainer's
  --bf16_full_eval, which casts the model in place: a trained model saved after it would be bf16).
- Prediction order: `get_eval_dataloader` / `get_test_dataloader` feed the windows longest first (each batch is
  padded to about its own length; whatever --train_sampling_strategy says, which in transformers 5 would
  length-group the eval sampler too and return the rows shuffled), and `predict` puts its rows back in dataset
  order: the same numbers as in dataset order, for less padding.
"""
from __future__ import annotations

import inspect

import numpy as np
import torch
from torch.utils.data import DataLoader, Sampler, SequentialSampler
from transformers import Trainer
from transformers.trainer_utils import PredictionOutput

PREDICTION_PRECISIONS = ("fp32", "bf16")
LABEL_COLUMNS = ("label", "labels", "label_ids")  # kept for the collator / compute_metrics, as the Trainer keeps them


class InOrder(Sampler):
    """Yields the given row order (the longest-first order of a prediction)."""

    def __init__(self, order):
        self.order = order

    def __iter__(self):
        return iter(self.order.tolist())

    def __len__(self):
        return len(self.order)


def longest_first(dataset) -> np.ndarray | None:
    """Row indices by input_ids length, longest first (stable); None where there is nothing to sort."""
    if "input_ids" not in getattr(dataset, "column_names", ()) or len(dataset) < 2:
        return None
    import pyarrow.compute as pc
    lengths = pc.list_value_length(dataset.with_format("arrow")["input_ids"]).to_numpy()
    return np.argsort(-lengths, kind="stable")


def in_dataset_order(out: PredictionOutput, order) -> PredictionOutput:
    """A prediction made in `order`, row i put back at dataset row order[i]."""
    if order is None:
        return out
    back = np.empty_like(order)
    back[order] = np.arange(len(order))

    def unsort(x):
        return None if x is None else tuple(unsort(y) for y in x) if isinstance(x, tuple) else x[back]
    return PredictionOutput(predictions=unsort(out.predictions), label_ids=unsort(out.label_ids), metrics=out.metrics)


class BertkitTrainer(Trainer):
    def __init__(self, *args, sort_eval_by_length: bool = True, prediction_precision: str = "fp32", **kwargs):
        if prediction_precision not in PREDICTION_PRECISIONS:
            raise ValueError(f"prediction_precision {prediction_precision!r} is not one of {PREDICTION_PRECISIONS}")
        super().__init__(*args, **kwargs)
        self.sort_eval_by_length = sort_eval_by_length
        self.prediction_autocast_dtype = torch.bfloat16 if prediction_precision == "bf16" else None
        a = self.args
        self.cpu_autocast_dtype = (torch.bfloat16 if a.bf16 else None) if a.device.type == "cpu" else None
        if self.cpu_autocast_dtype is not None and a.mixed_precision != "no":
            raise ValueError("bf16 on a CPU is autocast by BertkitTrainer: build its TrainingArguments with "
                             "bertkit.train.runtime.resolve_runtime (mixed_precision 'no' for accelerate)")

    def autocast_smart_context_manager(self, cache_enabled: bool | None = True):
        if self.cpu_autocast_dtype is not None and self.model.training:
            return torch.autocast("cpu", dtype=self.cpu_autocast_dtype, cache_enabled=cache_enabled)
        if self.prediction_autocast_dtype is not None and not self.model.training:  # --prediction_precision bf16
            return torch.autocast(self.args.device.type, dtype=self.prediction_autocast_dtype, cache_enabled=cache_enabled)
        return super().autocast_smart_context_manager(cache_enabled)

    def prediction_order(self, dataset):
        return longest_first(dataset) if self.sort_eval_by_length else None

    def model_inputs(self, dataset):
        """The columns the model's forward takes (and the labels): the rest (offsets, ids) stays out of batches."""
        names = set(inspect.signature(self.accelerator.unwrap_model(self.model).forward).parameters) | set(LABEL_COLUMNS)
        drop = [c for c in getattr(dataset, "column_names", ()) if c not in names]
        return dataset.remove_columns(drop) if drop else dataset

    def prediction_loader(self, dataset) -> DataLoader:
        dataset = self.model_inputs(dataset)
        order = self.prediction_order(dataset)
        a = self.args
        loader = DataLoader(dataset, batch_size=a.eval_batch_size, collate_fn=self.data_collator,
                            sampler=InOrder(order) if order is not None else SequentialSampler(dataset),
                            num_workers=a.dataloader_num_workers, pin_memory=a.dataloader_pin_memory,
                            persistent_workers=a.dataloader_persistent_workers and a.dataloader_num_workers > 0,
                            prefetch_factor=a.dataloader_prefetch_factor if a.dataloader_num_workers > 0 else None,
                            multiprocessing_context=a.dataloader_multiprocessing_context, in_order=a.dataloader_in_order)
        return self.accelerator.prepare(loader)  # sharded over processes; the Trainer gathers in this order

    def get_eval_dataloader(self, eval_dataset=None) -> DataLoader:
        if isinstance(eval_dataset, str):
            eval_dataset = self.eval_dataset[eval_dataset]
        return self.prediction_loader(eval_dataset if eval_dataset is not None else self.eval_dataset)

    def get_test_dataloader(self, test_dataset) -> DataLoader:
        return self.prediction_loader(test_dataset)

    def predict(self, test_dataset, ignore_keys=None, metric_key_prefix: str = "test") -> PredictionOutput:
        """trainer.predict whose output row i is dataset row i (predicted longest first, then put back)."""
        out = super().predict(test_dataset, ignore_keys=ignore_keys, metric_key_prefix=metric_key_prefix)
        return in_dataset_order(out, self.prediction_order(self.model_inputs(test_dataset)))
