"""metrics/squad_v2 and metrics/sentiment load offline through `evaluate` and give the project's numbers: on the
committed default run's predictions, the results JSON's metrics; where the hub is reachable, the hub's squad_v2."""
import json

import pytest

from conftest import REPO, committed_classification


def _latest_squad_run():
    runs = [p for p in sorted((REPO / "results").glob("squad_subset_*.json"))
            if json.loads(p.read_text()).get("kind") == "fine-tuned" and (REPO / "results" / p.stem / "null_odds.json").is_file()]
    return runs[-1]


@pytest.fixture(scope="module")
def run_inputs(dev_file):
    from bertkit.data.squad import read_squad_rows
    path = _latest_squad_run()
    r = json.loads(path.read_text())
    folder = REPO / r["output_dir"]
    nonnull = json.loads((folder / "nonnull_predictions.json").read_text())
    odds = json.loads((folder / "null_odds.json").read_text())
    rows = {x["id"]: x for x in read_squad_rows(dev_file)}
    ids = sorted(nonnull)
    preds = [{"id": i, "prediction_text": nonnull[i], "no_answer_probability": odds[i]} for i in ids]
    refs = [{"id": i, "answers": rows[i]["answers"]} for i in ids]
    return r, preds, refs


def test_squad_v2_module_gives_the_run_metrics(run_inputs):
    import evaluate
    r, preds, refs = run_inputs
    out = evaluate.load(str(REPO / "metrics" / "squad_v2")).compute(
        predictions=preds, references=refs, no_answer_threshold=r["null_threshold"]["value"])
    assert set(out) >= {"exact", "f1", "HasAns_f1", "NoAns_f1", "best_f1", "best_f1_thresh"}
    for k, v in out.items():
        assert v == pytest.approx(r["metrics"][k], abs=1e-9), k


def test_squad_v2_module_matches_the_hub_metric(run_inputs):
    import evaluate
    r, preds, refs = run_inputs
    try:
        hub = evaluate.load("squad_v2")
    except Exception as e:  # offline (the default here): nothing to compare with
        pytest.skip(f"the hub's squad_v2 metric cannot be loaded here ({type(e).__name__}): offline")
    ours = evaluate.load(str(REPO / "metrics" / "squad_v2"))
    kw = dict(predictions=preds, references=refs, no_answer_threshold=r["null_threshold"]["value"])
    theirs, mine = hub.compute(**kw), ours.compute(**kw)
    for k in ("exact", "f1", "HasAns_exact", "HasAns_f1", "NoAns_f1", "best_exact", "best_f1"):
        assert mine[k] == pytest.approx(theirs[k], abs=1e-6), k


def test_sentiment_module_gives_the_run_metrics():
    import evaluate
    path = next(p for p in sorted((REPO / "results").glob("imdb_subset_*.json")))
    r = json.loads(path.read_text())
    labels, preds = committed_classification(r)
    out = evaluate.load(str(REPO / "metrics" / "sentiment")).compute(predictions=preds, references=labels)
    assert out["accuracy"] == pytest.approx(r["metrics"]["accuracy"], abs=1e-12)
    assert out["macro_f1"] == pytest.approx(r["metrics"]["macro_f1"], abs=1e-12) and out["n"] == len(labels)
