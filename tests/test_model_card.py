"""The model card (README.md of a run's folder), offline: its YAML header is huggingface_hub's (ModelCardData, the
model-index from EvalResults) and reads back with ModelCard.load; its numbers are the results JSON's; a run that
did not evaluate has no model-index; `python -m bertkit.report.model_card results/<run>.json` writes it."""
import json
import os
import subprocess
import sys

import pytest
import yaml

from conftest import REPO

SQUAD = REPO / "results" / "squad_subset_20261202_014953.json"  # the committed default run
IMDB = REPO / "results" / "imdb_subset_head_tail_20261125_181227.json"


def header_and_text(card: str):
    assert card.startswith("---\n")
    head, text = card[4:].split("\n---\n", 1)
    return yaml.safe_load(head), text


@pytest.mark.parametrize("path, pipeline, dataset, metrics", [
    (SQUAD, "question-answering", "squad_v2", [("exact_match", "exact", 1), ("f1", "f1", 1)]),
    (IMDB, "text-classification", "imdb", [("accuracy", "accuracy", 100), ("f1", "macro_f1", 100)])])
def test_the_header_is_the_librarys_and_the_numbers_the_runs(path, pipeline, dataset, metrics, tmp_path):
    from huggingface_hub import ModelCard
    from bertkit.report.model_card import model_card
    r = json.loads(path.read_text())
    card = model_card(r)
    head, text = header_and_text(card)
    assert head["library_name"] == "transformers" and head["pipeline_tag"] == pipeline
    assert head["datasets"] == [dataset] and head["base_model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert head["license"] == "apache-2.0"  # the offline MiniLM's own card says so
    result = head["model-index"][0]["results"][0]
    assert head["model-index"][0]["name"] == r["output_dir"].split("/")[-1] and result["task"]["type"] == pipeline
    for kind, key, scale in metrics:
        got = next(m["value"] for m in result["metrics"] if m["type"] == kind)
        assert got == pytest.approx(scale * r["metrics"][key], abs=0.006)
    assert text.startswith(f"\n# {r['output_dir'].split('/')[-1]}\n") and "## Results" in text
    assert "from_pretrained" in text and r["command"] in text
    (tmp_path / "README.md").write_text(card)
    back = ModelCard.load(tmp_path / "README.md")  # a local path: no hub call
    assert [e.metric_type for e in back.data.eval_results][:2] == [k for k, _, _ in metrics]


def test_a_run_that_did_not_evaluate_has_no_model_index(tmp_path):
    from bertkit.report.model_card import model_card
    r = json.loads(SQUAD.read_text())
    r["metrics"], r["baseline_metrics"] = None, None
    head, text = header_and_text(model_card(r))
    assert "model-index" not in head and "metrics" not in head and head["pipeline_tag"] == "question-answering"
    assert "| F1 | - | - |" in text


def test_the_command_writes_the_card_of_a_past_run(tmp_path):
    r = json.loads(IMDB.read_text())
    r["output_dir"] = str(tmp_path / "run")  # absolute: the card lands there, not in the committed folder
    (tmp_path / "run").mkdir()
    (tmp_path / "run.json").write_text(json.dumps(r))
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    p = subprocess.run([sys.executable, "-m", "bertkit.report.model_card", str(tmp_path / "run.json")], cwd=REPO,
                       env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.strip() == str(tmp_path / "run" / "README.md")
    head, _ = header_and_text((tmp_path / "run" / "README.md").read_text())
    assert head["model-index"][0]["name"] == "run" and head["model-index"][0]["results"][0]["dataset"]["split"] == "test"
