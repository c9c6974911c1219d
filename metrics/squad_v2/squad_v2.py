"""SQuAD v2.0 EM/F1 (the official rules), as an `evaluate` module that loads offline from this project.

    import evaluate
    squad_v2 = evaluate.load("path/to/bert-squad-imdb/metrics/squad_v2")
    squad_v2.compute(predictions=[{"id": "q1", "prediction_text": "Beijing", "no_answer_probability": -3.2}],
                     references=[{"id": "q1", "answers": {"text": ["Beijing"], "answer_start": [24]}}],
                     no_answer_threshold=-3.9)
The inputs and outputs are those of the hub's `squad_v2` metric; the numbers are the project's scorer's
(squad_v2_scoring.py is bertkit/qa/scoring.py). no_answer_probability may be any score where higher means "no
answer" (this project's null odds): a question is scored as answered "" when it is above no_answer_threshold;
best_* search the threshold over the predictions as given.
"""
import datasets
import evaluate

from .squad_v2_scoring import squad_v2_metrics

KEYS = ("exact", "f1", "total", "HasAns_exact", "HasAns_f1", "HasAns_total", "NoAns_exact", "NoAns_f1", "NoAns_total",
        "best_exact", "best_exact_thresh", "best_f1", "best_f1_thresh")


class SquadV2(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=__doc__, citation="Rajpurkar, Jia and Liang (2018), Know What You Don't Know: Unanswerable "
                                          "Questions for SQuAD",
            inputs_description="predictions: {id, prediction_text, no_answer_probability}; references: {id, answers}",
            features=datasets.Features({
                "predictions": {"id": datasets.Value("string"), "prediction_text": datasets.Value("string"),
                                "no_answer_probability": datasets.Value("float64")},
                "references": {"id": datasets.Value("string"), "answers": datasets.Sequence(
                    {"text": datasets.Value("string"), "answer_start": datasets.Value("int32")})}}))

    def _compute(self, predictions, references, no_answer_threshold=1.0):
        text = {p["id"]: p["prediction_text"] for p in predictions}
        odds = {p["id"]: p["no_answer_probability"] for p in predictions}
        scored = {q: "" if odds[q] > no_answer_threshold else t for q, t in text.items()}
        m = squad_v2_metrics(references, scored, text, odds)
        return {k: m[k] for k in KEYS if k in m}
