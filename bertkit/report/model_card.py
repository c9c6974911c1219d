"""A Hugging Face model card (README.md) for a fine-tuned output folder, from the run's results JSON.

    .venv/bin/python -m bertkit.report.model_card results/<run>.json        # (re)write <output_dir>/README.md for a past run

The runs write it as their last, optional step: the model, predictions and metrics are on disk before it.
Every number in it is the results JSON's; the protocol goes with each metric (dev-split numbers are not
official SQuAD 2.0 dev numbers).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..results.record import REPO, write_text_atomic


MINILM_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"


def _base(model: dict) -> tuple[str | None, str]:
    """(the hub id for the YAML base_model, or None for a local folder; how the text names it)."""
    if model.get("package"):
        return MINILM_HUB_ID, f"{MINILM_HUB_ID} (as PyPI {model['package']})"
    name = model.get("name_or_path", "?")
    return (None if name.startswith(("/", ".")) or Path(name).is_dir() else name), name


def _license(model: dict, hub_id: str | None) -> str | None:
    """The base model's license as its own card says, read offline (its folder, the offline MiniLM's, or the hub
    cache; never a download); None where unknown. A fine-tune keeps its base model's license."""
    from huggingface_hub import ModelCard, try_to_load_from_cache
    from ..train.modeling import offline_minilm_path
    name = model.get("name_or_path") or ""
    local = offline_minilm_path() if model.get("package") else name if Path(name).is_dir() else None
    card = Path(local) / "README.md" if local else None
    if card is None and hub_id:
        cached = try_to_load_from_cache(hub_id, "README.md")
        card = Path(cached) if isinstance(cached, str) else None
    if card is None or not card.is_file():
        return None
    try:
        return ModelCard.load(card, ignore_metadata_errors=True).data.get("license")
    except Exception:  # a base card that is not YAML + markdown: the license is simply not known
        return None


def _results(pipeline: str, dataset: str, task_name: str, dataset_name: str, rows, split=None) -> list:
    """One EvalResult per measured metric (type, value, name); none for a run that did not evaluate."""
    from huggingface_hub import EvalResult
    return [EvalResult(task_type=pipeline, task_name=task_name, dataset_type=dataset, dataset_name=dataset_name,
                       dataset_split=split, metric_type=t, metric_value=round(v, 2), metric_name=n)
            for t, v, n in rows if v is not None]


def _squad(r: dict) -> tuple[tuple, str]:
    m, b, data = r["metrics"] or {}, r.get("baseline_metrics") or {}, r["data"]
    n_eval = data.get("eval", {}).get("n_examples")
    proto = r.get("protocol") or "?"
    where = f"{proto}, {n_eval} questions" if n_eval else proto
    results = _results("question-answering", "squad_v2", "Extractive question answering with unanswerable "
                       "questions", f"SQuAD 2.0 ({r.get('protocol_note') or proto})", [
                           ("exact_match", m.get("exact"), f"Exact ({where})"), ("f1", m.get("f1"), f"F1 ({where})"),
                           ("f1", m.get("HasAns_f1"), f"HasAns F1 ({where})")])
    t = r.get("null_threshold") or {}
    rows = [("EM", "exact"), ("F1", "f1"), ("HasAns F1", "HasAns_f1"), ("NoAns F1", "NoAns_f1"), ("best F1", "best_f1")]
    f = lambda x, k: f"{x[k]:.2f}" if k in x else "-"  # noqa: E731  (- : not evaluated)
    table = "\n".join(f"| {name} | {f(b, k)} | {f(m, k)} |" for name, k in rows)
    demo = r.get("demo") or {}
    body = f"""## Results ({where})

| metric | before fine-tuning | after |
|---|---|---|
{table}

No-answer threshold: **{t.get('value', 0):+.3f}** ({t.get('method', 'given')}; {t.get('description', '')}), saved
beside the weights as `qa_threshold.json`: a question is answered "" (no answer) when the no-answer score beats
the best span by more than it. The tutorial's demo, "{demo.get('question', '')}" on "{demo.get('context', '')}":
answer {demo.get('answer')!r} (best span {demo.get('best_span')!r}).

## Use it

```python
from transformers import AutoModelForQuestionAnswering, AutoTokenizer
tok = AutoTokenizer.from_pretrained("{r['output_dir']}")
model = AutoModelForQuestionAnswering.from_pretrained("{r['output_dir']}")
```

Ask it with this project's post-processing (windows, n-best, the saved threshold):
`.venv/bin/python ask.py --model {r['output_dir']} --question "..." --context "..."`, or serve a page and an API:
`bash scripts/serve.sh --model {r['output_dir']}`."""
    return ("question-answering", "squad_v2", results), body


def _imdb(r: dict) -> tuple[tuple, str]:
    m, b = r.get("metrics") or {}, r.get("baseline_metrics") or {}
    n = m.get("n")
    imdb = r.get("task") == "imdb"
    names = (r.get("data") or {}).get("labels", {}).get("names") or []
    where = f"{r.get('protocol')}, {n} test {'reviews' if imdb else 'texts'}"
    task = "Sentiment (positive / negative)" if imdb else f"Text classification ({len(names)} classes)"
    dataset = "imdb" if imdb else "local"
    results = _results("text-classification", dataset, task, f"IMDB ({r.get('protocol')})" if imdb else
                       str(r.get("protocol")), [
        ("accuracy", 100 * m["accuracy"] if "accuracy" in m else None, f"Accuracy % ({where})"),
        ("f1", 100 * m["macro_f1"] if "macro_f1" in m else None, f"Macro F1 % ({where})")], split="test")
    acc = lambda x, k: f"{100 * x[k]:.2f}" if k in x else "-"  # noqa: E731
    body = f"""## Results ({where})

| metric | before fine-tuning | after |
|---|---|---|
| accuracy % | {acc(b, 'accuracy')} | {acc(m, 'accuracy')} |
| macro F1 % | {acc(b, 'macro_f1')} | {acc(m, 'macro_f1')} |

## Use it

```python
from transformers import AutoModelForSequenceClassification, AutoTokenizer
tok = AutoTokenizer.from_pretrained("{r['output_dir']}")
model = AutoModelForSequenceClassification.from_pretrained("{r['output_dir']}")
```

`.venv/bin/python classify.py --model {r['output_dir']} --text "..."` (the {r['hyperparameters'].get('truncation')} truncation
it was trained with), or `bash scripts/serve.sh --model {r['output_dir']}` for a page and an API."""
    if names and not imdb:
        body = f"Classes (label ids in this order): {', '.join(names)}.\n\n" + body
    return ("text-classification", dataset, results), body


# the YAML header's keys in reading order (eval_results: where ModelCardData writes the model-index)
ORDER = ["language", "license", "library_name", "base_model", "tags", "pipeline_tag", "datasets", "metrics",
         "eval_results"]


def card_data(r: dict, task: tuple):
    """The card's metadata, the Hub's fields, written by huggingface_hub (the model-index from EvalResults)."""
    from huggingface_hub import ModelCardData
    pipeline, dataset, results = task
    hub_id, _ = _base(r["model"])
    return ModelCardData(language="en", license=_license(r["model"], hub_id), library_name="transformers",
                         base_model=hub_id, tags=["bert-squad-imdb"], pipeline_tag=pipeline, datasets=[dataset] if dataset != "local" else None,
                         metrics=list(dict.fromkeys(e.metric_type for e in results)) or None,
                         model_name=Path(r["output_dir"]).name, eval_results=results or None)


def model_card(r: dict) -> str:
    from huggingface_hub import ModelCard
    task, body = (_squad if r["task"] == "squad_v2" else _imdb)(r)
    model, hp, hw = r["model"], r["hyperparameters"], r.get("hardware") or {}
    keys = ("learning_rate", "head_learning_rate", "num_train_epochs", "per_device_train_batch_size", "warmup_steps",
            "weight_decay", "max_seq_length", "doc_stride", "truncation", "max_train_unanswerable_fraction", "seed")
    recipe = ", ".join(f"`{k}` {hp[k]}" for k in keys if hp.get(k) is not None)
    timing = r.get("timing") or {}
    counts = ", ".join(f"{k} {v.get('n_examples', v.get('n'))}" for k, v in (r["data"].get("counts") or r["data"]).items()
                       if isinstance(v, dict) and ("n_examples" in v or "n" in v))
    _, base = _base(model)
    launched = f"Launched with `{r['launched_by']}`. " if r.get("launched_by") else ""
    text = f"""# {Path(r['output_dir']).name}

Fine-tuned from **{base}** ({model.get('model_type')}, {model.get('num_hidden_layers')} layers, hidden
{model.get('hidden_size')}, weights sha256 `{(model.get('sha256') or '?')[:16]}...`) by
bert-squad-imdb (`run_squad.py` / `run_imdb.py`), commit `{r.get('git_commit')}`, {r.get('created')}.

## Data and protocol

{r.get('protocol')}{': ' + r['protocol_note'] if r.get('protocol_note') else ''}. Per split: {counts}.

## Recipe

{launched}The command that ran, as recorded in the results JSON:

```text
{r.get('command')}
```

{recipe}; precision {(r.get('runtime') or {}).get('precision')}; {timing.get('train_seconds')} s of training.

{body}

## Hardware and versions

{hw.get('cpu_model')} ({hw.get('cpu_count')} cores){', GPUs: ' + ', '.join(map(str, hw['gpus'])) if hw.get('gpus') else ', no GPU'};
{', '.join(f'{k} {v}' for k, v in (r.get('versions') or {}).items() if v)}.
Full provenance: the results JSON, `results/{Path(r['output_dir']).name}.json`.
"""
    header = card_data(r, task).to_yaml(original_order=ORDER)
    return str(ModelCard(f"---\n{header}\n---\n\n{text}"))  # parsed back by the library: the header is one it reads


def write_model_card(out_dir, result: dict) -> str:
    path = Path(out_dir) / "README.md"
    write_text_atomic(path, model_card(result))
    return str(path)


def finish_run(result: dict, path, output_dir, trained: bool, optional, log) -> None:
    """A run's last two steps: the model card (optional: model, predictions and metrics are on disk already),
    then the results JSON, written once and whole."""
    from ..results.record import write_json_atomic
    if trained:
        optional("model card", write_model_card, output_dir, result)
    write_json_atomic(path, result)
    log.info("wrote %s", path)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("results_json")
    a = p.parse_args(argv)
    r = json.loads(Path(a.results_json).read_text())
    print(write_model_card(REPO / r["output_dir"], r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
