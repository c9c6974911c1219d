"""Binary sentiment accuracy, macro F1 and per-class precision/recall/F1, as an `evaluate` module that loads
offline from this project (the numbers of run_imdb.py: sentiment_scoring.py is bertkit/classify/scoring.py).

    import evaluate
    sentiment = evaluate.load("path/to/bert-squad-imdb/metrics/sentiment")
    sentiment.compute(predictions=[1, 0, 1], references=[1, 1, 1])   # 0 = negative, 1 = positive
"""
import datasets
import evaluate

from .sentiment_scoring import classification_metrics


class Sentiment(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=__doc__, citation="Maas et al. (2011), Learning Word Vectors for Sentiment Analysis",
            inputs_description="predictions, references: lists of 0 (negative) / 1 (positive)",
            features=datasets.Features({"predictions": datasets.Value("int32"),
                                        "references": datasets.Value("int32")}))

    def _compute(self, predictions, references):
        m = classification_metrics(references, predictions)
        return {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"], "per_class": m["per_class"],
                "confusion_matrix": m["confusion_matrix"]["matrix"], "n": m["n"]}
