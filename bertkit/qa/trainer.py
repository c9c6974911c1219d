"""The SQuAD 2.0 Trainer: `evaluate` predicts every window, post-processes per question and scores by the
official rules (the shape of Hugging Face's QuestionAnsweringTrainer), so --eval_strategy steps|epoch,
--load_best_model_at_end with --metric_for_best_model f1, and callbacks work for SQuAD."""
from __future__ import annotations

from ..train.trainer import BertkitTrainer
from .postprocess import postprocess_qa
from .scoring import squad_v2_metrics

NON_MODEL_COLUMNS = ("example_id", "offset_mapping", "cls_index")  # post-processing's (cls_index: never a model input)


class QuestionAnsweringTrainer(BertkitTrainer):
    def __init__(self, *args, eval_examples=None, data_args=None, eval_threshold: float = 0.0, **kwargs):
        """eval_examples: the questions of eval_dataset's windows; eval_threshold: the no-answer threshold of the
        evaluations during training (a calibrated one exists only after training)."""
        super().__init__(*args, **kwargs)
        self.eval_examples, self.data_args, self.eval_threshold = eval_examples, data_args, eval_threshold

    def predict_answers(self, examples, features, threshold: float, prefix: str = "eval"):
        """Predict every window and post-process per question: (predictions, nbest, null_odds, nonnull)."""
        out = self.predict(features.remove_columns([c for c in NON_MODEL_COLUMNS if c in features.column_names]),
                           metric_key_prefix=prefix)
        start_logits, end_logits = out.predictions[:2] if isinstance(out.predictions, tuple) else out.predictions
        # Under N processes the Trainer gathers every process's windows in dataset order and drops the copies
        # accelerate adds to even out the last batch; postprocess_qa stops if the count is off.
        d = self.data_args
        return postprocess_qa(examples, features["example_id"], features["offset_mapping"], start_logits, end_logits,
                              d.n_best_size, d.max_answer_length, threshold, show_progress=self.is_world_process_zero(),
                              cls_indices=features["cls_index"] if "cls_index" in features.column_names else None)

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
