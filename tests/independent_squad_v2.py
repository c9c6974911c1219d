"""Independent re-implementation of the official SQuAD v2.0 evaluation rules.

Deliberately has no imports from the project, so it can cross-check its scorer.
"""
import collections
import gzip
import json
import re
import string

_PUNCT = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)


def load_gold(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        data = json.load(f)["data"]
    gold = {}
    for article in data:
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                gold[qa["id"]] = [a["text"] for a in qa.get("answers", [])]
    return gold


def normalize(s):
    s = s.lower()
    s = "".join(ch for ch in s if ch not in _PUNCT)
    s = _ARTICLES.sub(" ", s)
    return " ".join(s.split())


def exact(gold, pred):
    return float(normalize(gold) == normalize(pred))


def f1(gold, pred):
    g, p = normalize(gold).split(), normalize(pred).split()
    if not g or not p:
        return float(g == p)
    same = sum((collections.Counter(g) & collections.Counter(p)).values())
    if same == 0:
        return 0.0
    prec, rec = same / len(p), same / len(g)
    return 2 * prec * rec / (prec + rec)


def _gold_texts(answers):
    kept = [a for a in answers if normalize(a)]
    return kept or [""]


def raw_scores(gold, preds):
    ex, fs = {}, {}
    for qid, answers in gold.items():
        if qid not in preds:
            raise KeyError("missing prediction for %s" % qid)
        golds = _gold_texts(answers)
        ex[qid] = max(exact(g, preds[qid]) for g in golds)
        fs[qid] = max(f1(g, preds[qid]) for g in golds)
    return ex, fs


def _has_ans(gold):
    return {qid: any(normalize(a) for a in ans) for qid, ans in gold.items()}


def best_thresh(gold, preds, scores, na_probs):
    has = _has_ans(gold)
    cur = best = sum(1 for q in gold if not has[q])
    thresh = 0.0
    for qid in sorted(gold, key=lambda q: na_probs[q]):
        if has[qid]:
            cur += scores[qid]
        else:
            cur += -1 if preds[qid] else 0
        if cur > best:
            best, thresh = cur, na_probs[qid]
    return 100.0 * best / len(gold), thresh


def rescore(gold, predictions, nonnull_predictions=None, null_odds=None):
    if not gold:
        raise ValueError("empty gold set")
    ex, fs = raw_scores(gold, predictions)
    has = _has_ans(gold)
    out = {"total": len(gold),
           "exact": 100.0 * sum(ex.values()) / len(gold),
           "f1": 100.0 * sum(fs.values()) / len(gold)}
    for name, flag in (("HasAns", True), ("NoAns", False)):
        qids = [q for q in gold if has[q] == flag]
        if qids:
            out[name + "_total"] = len(qids)
            out[name + "_exact"] = 100.0 * sum(ex[q] for q in qids) / len(qids)
            out[name + "_f1"] = 100.0 * sum(fs[q] for q in qids) / len(qids)
    if nonnull_predictions is not None:
        nex, nfs = raw_scores(gold, nonnull_predictions)
        qids = [q for q in gold if has[q]]
        if qids:
            out["nonnull_HasAns_exact"] = 100.0 * sum(nex[q] for q in qids) / len(qids)
            out["nonnull_HasAns_f1"] = 100.0 * sum(nfs[q] for q in qids) / len(qids)
        if null_odds is not None:
            out["best_exact"], out["best_exact_thresh"] = best_thresh(
                gold, nonnull_predictions, nex, null_odds)
            out["best_f1"], out["best_f1_thresh"] = best_thresh(
                gold, nonnull_predictions, nfs, null_odds)
    return out


if __name__ == "__main__":  # python tests/independent_squad_v2.py DATA_FILE PREDICTIONS_DIR
    import os
    import sys
    data_file, pred_dir = sys.argv[1], sys.argv[2]

    def _load(name):
        path = os.path.join(pred_dir, name)
        if not os.path.exists(path):
            return None
        with open(path) as f:
            return json.load(f)

    preds = _load("predictions.json")
    gold = {q: a for q, a in load_gold(data_file).items() if q in preds}
    print(json.dumps(rescore(gold, preds, _load("nonnull_predictions.json"), _load("null_odds.json")), indent=2))
