"""Real labelled text built offline from the SQuAD v2.0 dev file, for run_classification.py and its tests:

  topics      each paragraph labelled by its article's title (35 classes in the dev file), the paragraphs of
              every article split 80/20 into train/test (seeded): real text, real labels.
  answerable  text pairs (question, paragraph) labelled answerable / unanswerable by SQuAD 2.0's own
              annotation, split by article as the dev-split protocol does (train: articles 0-24, test: 25-34).

    .venv/bin/python -m bertkit.data.tasks topics --squad_file data/squad_v2/dev-v2.0.json.gz --out_dir data/topics
Writes train.csv / test.csv (topics) or train.jsonl / test.jsonl (answerable) and bertkit_task.json (how they were
made: the source's sha256, the seed, the counts); run_classification.py copies that record into its results.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from pathlib import Path

import numpy as np

from ..errors import UserError, exit_on_user_error
from .files import sha256_file
from .squad import DEV_SPLIT, read_squad_rows

MANIFEST = "bertkit_task.json"
TEST_SHARE = 0.2


def paragraphs(rows: list[dict]) -> list[dict]:
    """Each (article, paragraph) once, in file order."""
    seen, out = set(), []
    for r in rows:
        key = (r["article_index"], r["context"])
        if key not in seen:
            seen.add(key)
            out.append({"article_index": r["article_index"], "title": r["title"], "context": r["context"]})
    return out


def topic_splits(rows: list[dict], seed: int) -> dict[str, list[dict]]:
    """{train, test}: rows {id, text, label}; within every article a seeded 20 % of its paragraphs (at least one)
    go to test, so train and test hold every title."""
    rng, out = np.random.default_rng(seed), {"train": [], "test": []}
    paras = paragraphs(rows)
    for a in sorted({p["article_index"] for p in paras}):
        mine = [p for p in paras if p["article_index"] == a]
        test = set(rng.permutation(len(mine))[:max(1, round(TEST_SHARE * len(mine)))].tolist())
        for i, p in enumerate(mine):
            out["test" if i in test else "train"].append(
                {"id": f"a{a}p{i}", "text": p["context"], "label": p["title"].replace("_", " ")})
    return out


def answerable_splits(rows: list[dict]) -> dict[str, list[dict]]:
    """{train, test}: rows {id, question, passage, label answerable/unanswerable}, by the dev-split's articles."""
    (t0, t1), (e0, e1) = DEV_SPLIT["train_articles"], DEV_SPLIT["eval_articles"]
    out = {"train": [], "test": []}
    for r in rows:
        split = "train" if t0 <= r["article_index"] <= t1 else "test" if e0 <= r["article_index"] <= e1 else None
        if split:
            out[split].append({"id": r["id"], "question": r["question"], "passage": r["context"],
                               "label": "answerable" if r["answers"]["text"] else "unanswerable"})
    return out


def _write(path: Path, text: str):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)  # atomic: a killed build leaves no half file under the real name


def _render(rows: list[dict], suffix: str) -> str:
    if suffix == ".jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def build(task: str, squad_file: str, out_dir: str, seed: int = 42) -> dict:
    """Write the task's files into out_dir (made if missing); returns the manifest. Files that are already there
    from the same source and seed are kept as they are; any other file of the same name is never overwritten."""
    rows = read_squad_rows(squad_file)
    splits = topic_splits(rows, seed) if task == "topics" else answerable_splits(rows)
    suffix = ".csv" if task == "topics" else ".jsonl"
    protocol = (f"topics of the SQuAD v2.0 dev paragraphs (article titles, 80/20 per article, seed {seed})"
                if task == "topics" else "SQuAD v2.0 dev (question, paragraph) answerable pairs, dev-split articles")
    manifest = {"task": task, "protocol": protocol, "source": {"path": str(squad_file), "sha256": sha256_file(squad_file)},
                "seed": seed if task == "topics" else None, "files": {k: f"{k}{suffix}" for k in splits},
                "counts": {k: {"n": len(v), "classes": len({r["label"] for r in v})} for k, v in splits.items()}}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    texts = {out / f"{k}{suffix}": _render(v, suffix) for k, v in splits.items()}
    texts[out / MANIFEST] = json.dumps(manifest, indent=2) + "\n"
    clash = [p for p, t in texts.items() if p.exists() and p.read_text(encoding="utf-8") != t]
    if clash:
        raise UserError(f"{clash[0]} exists and differs from what this build writes; choose another --out_dir "
                        "(files are never overwritten)")
    for p, t in texts.items():
        if not p.exists():
            _write(p, t)
    return manifest


def main(argv=None):
    p = argparse.ArgumentParser(description="Build a labelled task from the SQuAD v2.0 dev file (offline).")
    p.add_argument("task", choices=("topics", "answerable"))
    p.add_argument("--squad_file", required=True, help="the official dev-v2.0.json(.gz)")
    p.add_argument("--out_dir", required=True)
    p.add_argument("--seed", type=int, default=42, help="topics: which paragraphs of each article go to test")
    a = p.parse_args(argv)
    m = build(a.task, a.squad_file, a.out_dir, a.seed)
    counts = ", ".join(f"{k} {v['n']} rows / {v['classes']} classes" for k, v in m["counts"].items())
    print(f"{a.task}: {counts} in {a.out_dir} ({MANIFEST}: how they were made)", file=sys.stderr)


if __name__ == "__main__":
    exit_on_user_error(main)
