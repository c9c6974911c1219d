"""The SQuAD 2.0 Trainer: `evaluate` predicts every window, post-processes per question and scores by the
official rules (the shape of Hugging Face's QuestionAnsweringTrainer), so --eval_strategy steps|epoch,
--load_best_model_at_end with --metric_for_best_model f1, and callbacks work for SQuAD."""
from __future__ import annotations

import torch

from ..train.answerability import head_of, window_logits
from ..train.trainer import BertkitTrainer
from .postprocess import postprocess_qa
from .scoring import squad_v2_metrics

NON_MODEL_COLUMNS = ("example_id", "offset_mapping", "cls_index")  # post-processing's (cls_index: never a model input)


class QuestionAnsweringTrainer(BertkitTrainer):
    def __init__(self, *args, eval_examples=None, data_args=None, eval_threshold: float = 0.0,
                 answerability_weight: float | None = None, **kwargs):
        """eval_examples: the questions of eval_dataset's windows; eval_threshold: the no-answer threshold of the
        evaluations during training (a calibrated one exists only after training); answerability_weight: the
        weight of the answerability head's loss (bertkit/train/answerability.py), where the model has one."""
        super().__init__(*args, **kwargs)
        self.eval_examples, self.data_args, self.eval_threshold = eval_examples, data_args, eval_threshold
        self.answerability_weight = answerability_weight

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        """The span loss, plus the answerability head's binary cross-entropy (target: the window holds a span;
        start position 0, the first token, marks a window without one) where the model has the head."""
        head = head_of(self.accelerator.unwrap_model(model))
        if head is None or not self.answerability_weight or "start_positions" not in inputs:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        target = (inputs["start_positions"] != 0).float()
        loss, outputs = super().compute_loss(model, inputs, True, num_items_in_batch)
        bce = torch.nn.functional.binary_cross_entropy_with_logits(head.logits.float(), target)
        head.logits = None
        loss = loss + self.answerability_weight * bce
        return (loss, outputs) if return_outputs else loss

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
        """The Trainer's, with the answerability head's window logits after the start and end logits."""
        loss, logits, labels = super().prediction_step(model, inputs, prediction_loss_only, ignore_keys)
        extra = window_logits(self.accelerator.unwrap_model(model))
        if extra is not None and isinstance(logits, tuple):
            logits = (*logits, torch.as_tensor(extra, device=logits[0].device))
        return loss, logits, labels

    def predict_answers(self, examples, features, threshold: float, prefix: str = "eval"):
        """Predict every window and post-process per question: (predictions, nbest, null_odds, nonnull)."""
        out = self.predict(features.remove_columns([c for c in NON_MODEL_COLUMNS if c in features.column_names]),
                           metric_key_prefix=prefix)
        start_logits, end_logits = out.predictions[:2] if isinstance(out.predictions, tuple) else out.predictions
        answerable = out.predictions[2] if isinstance(out.predictions, tuple) and len(out.predictions) > 2 else None
        # Under N processes the Trainer gathers every process's windows in dataset order and drops the copies
        # accelerate adds to even out the last batch; postprocess_qa stops if the count is off.
        d = self.data_args
        return postprocess_qa(examples, features["example_id"], features["offset_mapping"], start_logits, end_logits,
                              d.n_best_size, d.max_answer_length, threshold, show_progress=self.is_world_process_zero(),
                              cls_indices=features["cls_index"] if "cls_index" in features.column_names else None,
                              answerable_logits=answerable, cut_restated_question=d.cut_restated_question)

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix: str = "eval", eval_examples=None):
        """SQuAD v2.0 exact/f1 (and HasAns/NoAns, best_f1) of eval_dataset's questions, logged and handed to the
        callbacks as <prefix>_<name>, as Trainer.evaluate does."""
        features = self.eval_dataset if eval_dataset is None else eval_dataset
        examples = self.eval_examples if eval_examples is None else eval_examples
        preds, _, odds, nonnull = self.predict_answers(examples, features, self.eval_threshold, metric_key_prefix)
        scores = squad_v2_metrics(examples, preds, nonnull, odds)
        metrics = {f"{metric_key_prefix}_{k}": v for k, v in scores.items() if isinstance(v, (int, float))}
        self.log(metrics)
        self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, metrics)
        return metrics
