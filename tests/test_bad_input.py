"""Bad input at the command line, as a user meets it: the real commands as processes, one table.

Each bad case must end with exit status 2, exactly one stderr line starting `error:` that names the file (or
flag) at fault, no traceback, and the output folder (and results file) exactly as before. Valid but unusual
input must run. The processes run a few at a time (they spend most of their time importing libraries).
"""
import gzip
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import REPO

CTX = "The capital of China is Beijing. It is a large city."


def squad(articles):
    return {"version": "v2.0", "data": articles}


def art(qas, context=CTX, title="T"):
    return {"title": title, "paragraphs": [{"context": context, "qas": qas}]}


def qa(qid, question="What is the capital of China?", text="Beijing", start=24, impossible=False):
    return {"id": qid, "question": question, "is_impossible": impossible,
            "answers": [] if impossible else [{"text": text, "answer_start": start}]}


GOOD = squad([art([qa("q1"), qa("q2", "What is large?", "a large city", 39), qa("q3", "Who?", impossible=True)])])
GOOD_OTHER_IDS = squad([art([qa("t1"), qa("t2", impossible=True)])])


def write(path: Path, content) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_text(json.dumps(content), encoding="utf-8")
    return path


def gz_cut(obj) -> bytes:
    return gzip.compress(json.dumps(obj).encode())[:-20]


def drop(obj, *keys_path):
    """A copy of GOOD with one key removed at the given place."""
    o = json.loads(json.dumps(obj))
    cur = o
    for k in keys_path[:-1]:
        cur = cur[k]
    del cur[keys_path[-1]]
    return o


def setf(obj, value, *keys_path):
    o = json.loads(json.dumps(obj))
    cur = o
    for k in keys_path[:-1]:
        cur = cur[k]
    cur[keys_path[-1]] = value
    return o


Q0 = ("data", 0, "paragraphs", 0, "qas", 0)
# (case id, file name, content or None (missing) or "DIR", the words the error line must hold)
SQUAD_BAD = [
    ("missing", "nope.json", None, "not found"),
    ("directory", "adir.json", "DIR", "is a folder"),
    ("empty", "empty.json", "", "is empty"),
    ("not_json", "text.json", "hello, world\nthis is not json\n", "neither official SQuAD JSON nor JSONL"),
    ("truncated_gz", "cut.json.gz", gz_cut(GOOD), "not a complete .gz"),
    ("no_data", "nodata.json", {"version": "v2.0"}, "no 'data' list"),
    ("empty_data", "emptydata.json", {"version": "v2.0", "data": []}, "'data' is empty"),
    ("no_paragraphs", "nopara.json", drop(GOOD, "data", 0, "paragraphs"), "article 0 ('T') has no 'paragraphs'"),
    ("no_context", "noctx.json", drop(GOOD, "data", 0, "paragraphs", 0, "context"), "paragraph 0 has no 'context'"),
    ("no_qas", "noqas.json", drop(GOOD, "data", 0, "paragraphs", 0, "qas"), "paragraph 0 has no 'qas'"),
    ("no_id", "noid.json", drop(GOOD, *Q0, "id"), "question 0 has no 'id'"),
    ("no_question", "noq.json", drop(GOOD, *Q0, "question"), "question q1"),
    ("no_answers", "noans.json", drop(GOOD, *Q0, "answers"), "question q1"),
    ("start_out_of_range", "range.json", setf(GOOD, 999, *Q0, "answers", 0, "answer_start"), "question q1: answer_start 999 is outside"),
    ("start_wrong", "wrong.json", setf(GOOD, 3, *Q0, "answers", 0, "answer_start"), "question q1: answer_start 3 does not point at 'Beijing'"),
    ("answerable_without_answers", "noansw.json", setf(GOOD, [], *Q0, "answers"), "question q1"),
    ("duplicate_ids", "dup.json", setf(GOOD, "q1", "data", 0, "paragraphs", 0, "qas", 1, "id"), "used twice (first: 'q1')"),
    ("not_utf8", "latin1.json", json.dumps(setf(GOOD, "Café?", *Q0, "question"), ensure_ascii=False).encode("latin-1"), "not UTF-8"),
]


# the same checks guard --train_file (one reader): a sample of them through the training path
TRAIN_SIDE = {"missing", "not_json", "truncated_gz", "no_paragraphs", "start_wrong", "duplicate_ids", "not_utf8"}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("bad_input")


def snapshot(*paths):
    out = {}
    for p in paths:
        p = Path(p)
        files = [p] if p.is_file() else sorted(x for x in p.rglob("*") if x.is_file()) if p.exists() else []
        out.update({str(f): f.read_bytes() for f in files})
        out[f"exists:{p}"] = p.exists()
    return out


def squad_cmd(model, out, *extra, validation=None, train=None):
    cmd = ["run_squad.py", "--model_name_or_path", model, "--output_dir", out, "--results_file", f"{out}.json",
           "--max_seq_length", 128, "--doc_stride", 32, "--per_device_eval_batch_size", 8, "--report_to", "none",
           "--save_strategy", "no", "--num_train_epochs", 1, "--per_device_train_batch_size", 4]
    if validation is not None:
        cmd += ["--validation_file", validation]
    if train is not None:
        cmd += ["--train_file", train, "--do_train"]
    return cmd + ["--do_eval", *extra]


def imdb_cmd(model, out, train, test, *extra):
    return ["run_imdb.py", "--model_name_or_path", model, "--train_file", train, "--test_file", test,
            "--validation_size", 2, "--max_seq_length", 32, "--output_dir", out, "--results_file", f"{out}.json",
            "--do_train", "--do_predict", "--num_train_epochs", 1, "--per_device_train_batch_size", 4,
            "--report_to", "none", "--save_strategy", "no", *extra]


def run_all(cases, cache):
    """Run every case's command (a few at a time); return {case id: CompletedProcess}."""
    env = {**os.environ, "HF_DATASETS_CACHE": str(cache), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}

    def one(case):
        cid, cmd = case[0], [str(c) for c in case[1]]
        extra = case[2] if len(case) > 2 else {}
        argv = cmd if cmd[0] == "bash" else [sys.executable, *cmd]
        return cid, subprocess.run(argv, cwd=REPO, env={**env, **extra}, capture_output=True, text=True, timeout=600)
    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(pool.map(one, cases))


def tiny_variants(tiny_model_dir, base: Path):
    """Model folders a user could point at by mistake: no weights, no tokenizer, pickle weights only."""
    import shutil
    d = {}
    for name, remove in (("no_weights", ["model.safetensors"]), ("no_tokenizer", ["tokenizer.json", "vocab.txt"])):
        m = base / name
        shutil.copytree(tiny_model_dir, m)
        for f in remove:
            (m / f).unlink(missing_ok=True)
        d[name] = m
    m = base / "slow_tokenizer"  # only a Python (slow) tokenizer: no offsets
    shutil.copytree(tiny_model_dir, m)
    (m / "tokenizer.json").unlink()
    from bertkit.train.modeling import offline_minilm_path
    shutil.copy(Path(offline_minilm_path()) / "vocab.txt", m / "vocab.txt")  # the same vocabulary as tiny's
    cfg = json.loads((m / "tokenizer_config.json").read_text())
    (m / "tokenizer_config.json").write_text(json.dumps({**cfg, "tokenizer_class": "BertTokenizerLegacy"}))
    d["slow_tokenizer"] = m
    m = base / "pickle_only"
    shutil.copytree(tiny_model_dir, m)
    (m / "model.safetensors").rename(m / "pytorch_model.bin")
    d["pickle_only"] = m
    return d


@pytest.fixture(scope="module")
def bad_runs(workdir, tiny_model_dir):
    d = workdir
    out = d / "out"  # one output folder for every bad case: it must stay exactly as it is
    write(out / "keep.txt", "a finished run's file")
    write(d / "out.json", {"earlier": "results"})
    good = write(d / "good.json", GOOD)
    cases, expect = [], {}
    for cid, name, content, words in SQUAD_BAD:
        path = d / "squad" / name
        if content == "DIR":
            path.mkdir(parents=True)
        elif content is not None:
            write(path, content)
        fresh = d / f"fresh_{cid}"  # results file that must not appear
        cases.append((f"squad_{cid}", squad_cmd(tiny_model_dir, fresh, validation=path)))
        expect[f"squad_{cid}"] = (name, words, [fresh, Path(f"{fresh}.json")])
        if cid in TRAIN_SIDE:
            cases.append((f"squad_train_{cid}", squad_cmd(tiny_model_dir, out, validation=good, train=path)
                          + ["--results_file", d / "never.json"]))
            expect[f"squad_train_{cid}"] = (name, words, [out, d / "never.json"])
    overlap = write(d / "train_overlap.json", GOOD)
    more = [
        ("squad_ids_in_both_files", squad_cmd(tiny_model_dir, out, "--results_file", d / "never.json", validation=good,
                                              train=overlap), ("train_overlap.json", "in both --train_file", [out])),
        ("squad_max_eval_samples_0", squad_cmd(tiny_model_dir, out, "--max_eval_samples", 0, "--results_file",
                                               d / "never.json", validation=good), ("--max_eval_samples", "positive", [out])),
        ("squad_only_unanswerable_left", squad_cmd(tiny_model_dir, out, "--max_train_unanswerable_fraction", 0,
                                                   "--results_file", d / "never.json", validation=good,
                                                   train=write(d / "unans.json", squad([art([qa("u1", impossible=True)])]))),
         ("--max_train_unanswerable_fraction", "no training questions", [out])),
        ("squad_seq_too_short", squad_cmd(tiny_model_dir, out, "--max_seq_length", 60, "--results_file",
                                          d / "never.json", validation=good), ("--max_seq_length", "tokens of context", [out])),
        ("squad_stride_too_big", squad_cmd(tiny_model_dir, out, "--doc_stride", 100, "--results_file", d / "never.json",
                                           validation=good), ("--doc_stride", "below the context room", [out])),
        ("squad_bf16_full_eval", squad_cmd(tiny_model_dir, out, "--bf16_full_eval", "true", "--results_file",
                                           d / "never.json", validation=good), ("--bf16_full_eval", "--prediction_precision bf16", [out])),
        ("squad_short_context_negatives", squad_cmd(tiny_model_dir, out, "--short_context_negatives", "nearest",
                                                    "--results_file", d / "never.json", validation=good),
         ("--short_context_negatives", "give one of random, closest, mixed, none", [out])),
        ("squad_weight_average_share", squad_cmd(tiny_model_dir, out, "--weight_average_share", "1.5",
                                                 "--results_file", d / "never.json", validation=good),
         ("--weight_average_share 1.5", "not in (0, 1]", [out])),
        ("squad_answer_floor", squad_cmd(tiny_model_dir, out, "--calibration_answer_floor", "1.5",
                                         "--results_file", d / "never.json", validation=good),
         ("--calibration_answer_floor 1.5", "at most 1", [out])),
        ("squad_results_exist", squad_cmd(tiny_model_dir, d / "out2", "--results_file", d / "out.json", validation=good),
         ("out.json", "exists", [d / "out.json"])),
    ]
    models = tiny_variants(tiny_model_dir, d / "models")
    for name, words in (("no_weights", "has no model.safetensors"), ("no_tokenizer", "has no tokenizer"),
                        ("pickle_only", "pickle files are never loaded"), ("slow_tokenizer", "not a fast tokenizer")):
        more.append((f"squad_model_{name}", squad_cmd(models[name], out, "--results_file", d / "never.json",
                                                     validation=good), (name, words, [out])))
        more.append((f"ask_model_{name}", ["ask.py", "--model", models[name]], (name, words, [])))
    more += [
        ("ask_context_file_missing", ["ask.py", "--model", tiny_model_dir, "--context_file", d / "nope.txt"],
         ("nope.txt", "not found", [])),
        ("classify_text_latin1", ["classify.py", "--model", tiny_model_dir, "--text_file",
                                  write(d / "review.txt", "Un film très beau".encode("latin-1"))], ("review.txt", "not UTF-8", [])),
        ("bench_no_data", ["benchmarks/throughput.py", "--model", tiny_model_dir, "--tokenizer", tiny_model_dir,
                           "--data_dir", d / "nodata", "--output", d / "bench.json"], ("nodata", "not found", [d / "bench.json"])),
        ("bench_vs_run_qa_no_scripts", ["benchmarks/vs_run_qa.py", "--run_qa", d / "nohf", "--model", tiny_model_dir,
                                        "--output", d / "vs.json"], ("nohf", "no run_qa.py", [d / "vs.json"])),
        ("bench_stride_too_big", ["benchmarks/throughput.py", "--model", tiny_model_dir, "--tokenizer", tiny_model_dir,
                                  "--max_seq_length", 128, "--doc_stride", 120, "--output", d / "bench.json"],
         ("--doc_stride", "below the context room", [d / "bench.json"])),
    ]
    imdb_good = write(d / "imdb" / "good.csv", "text,label\n" + "".join(f"review {i} is good,{i % 2}\n" for i in range(8)))
    for cid, name, content, words in (
            ("no_text_column", "nocol.csv", "review,label\nnice,1\nbad,0\n", "no 'text' or 'label' column"),
            ("unknown_label", "maybe.csv", "text,label\nnice,1\nhmm,maybe\n", "line 3: label 'maybe'"),
            ("header_only", "header.csv", "text,label\n", "no rows"),
            ("latin1", "latin1.csv", "text,label\nnice,1\ntrès mauvais,0\n".encode("latin-1"), "line 3 is not UTF-8"),
            ("empty", "empty.csv", "", "is empty"),
            ("truncated_gz", "cut.csv.gz", gzip.compress(b"text,label\n" + b"a fine film,1\n" * 400)[:-30], "not a complete .gz"),
            ("jsonl_no_label", "nolabel.jsonl", '{"text": "nice"}\n', "no 'text' or 'label' column"),
            ("directory", "adir.csv", "DIR", "is a folder")):
        path = d / "imdb" / name
        if content == "DIR":
            path.mkdir(parents=True)
        else:
            write(path, content)
        more.append((f"imdb_train_{cid}", imdb_cmd(tiny_model_dir, out, path, imdb_good, "--results_file", d / "never.json"),
                     (name, words, [out, d / "never.json"])))
    more.append(("imdb_test_unknown_label", imdb_cmd(tiny_model_dir, out, imdb_good, d / "imdb" / "maybe.csv",
                                                     "--results_file", d / "never.json"), ("maybe.csv", "label 'maybe'", [out])))
    # run_classification.py: any labels, so the checks are about classes, texts and the delimiter
    cls_good = write(d / "cls" / "good.csv", "text,label\n" + "".join(f"ticket {i},{'abc'[i % 3]}\n" for i in range(9)))
    for cid, name, content, words in CLS_BAD:
        path = write(d / "cls" / name, content)
        train, test = (cls_good, path) if cid.startswith("test_") else (path, cls_good)
        more.append((f"cls_{cid}", ["run_classification.py", *imdb_cmd(tiny_model_dir, out, train, test)[1:],
                                    "--results_file", d / "never.json"], (name, words, [out, d / "never.json"])))
    more.append(("cls_hub_offline", ["run_classification.py", "--model_name_or_path", tiny_model_dir, "--dataset_name",
                                     "imdb", "--do_train", "--output_dir", out, "--results_file", d / "never.json"],
                 ("'imdb'", "the hub cannot be reached", [out, d / "never.json"])))
    for cid, cmd, exp in more:
        cases.append((cid, cmd))
        expect[cid] = exp
    # the shell scripts pass the commands' line and status through
    cases.append(("script_model_no_weights", ["bash", "scripts/baseline.sh"],
                  {"MODEL": str(models["no_weights"]), "OUTPUT_DIR": str(out), "DATA_DIR": str(good.parent)}))
    expect["script_model_no_weights"] = ("no_weights", "has no model.safetensors", [out])
    before = snapshot(out, d / "out.json")
    cache = d / "datasets_cache"
    results = run_all(cases, cache)
    return results, expect, before, snapshot(out, d / "out.json"), cache


CLS_BAD = (("one_class", "one.csv", "text,label\na,x\nb,x\nc,x\n", "holds one class ('x')"),
           ("test_unknown_label", "unknown.csv", "text,label\nq,a\nr,zzz\n", "label 'zzz' is not one of the 3 classes"),
           ("empty_text", "blank.csv", "text,label\nfine,a\n   ,b\nok,c\n", "line 3: the 'text' text is empty"),
           ("wrong_delimiter", "tabs.csv", "text\tlabel\na\tx\nb\ty\n", "reads as one column"))


def bad_case_ids():
    ids = []
    for cid, *_ in SQUAD_BAD:
        ids += [f"squad_{cid}"] + ([f"squad_train_{cid}"] if cid in TRAIN_SIDE else [])
    ids += ["squad_ids_in_both_files", "squad_max_eval_samples_0", "squad_only_unanswerable_left", "squad_seq_too_short",
            "squad_stride_too_big", "squad_bf16_full_eval", "squad_short_context_negatives", "squad_weight_average_share",
            "squad_answer_floor",
            "squad_results_exist"]
    for m in ("no_weights", "no_tokenizer", "pickle_only", "slow_tokenizer"):
        ids += [f"squad_model_{m}", f"ask_model_{m}"]
    ids += ["ask_context_file_missing", "classify_text_latin1", "bench_no_data", "bench_vs_run_qa_no_scripts",
            "bench_stride_too_big"]
    ids += [f"imdb_train_{c}" for c in ("no_text_column", "unknown_label", "header_only", "latin1", "empty",
                                        "truncated_gz", "jsonl_no_label", "directory")]
    return ids + ["imdb_test_unknown_label", "script_model_no_weights"] + [f"cls_{c[0]}" for c in CLS_BAD] + ["cls_hub_offline"]


@pytest.mark.parametrize("cid", bad_case_ids())
def test_bad_input_is_one_line_exit_2_nothing_changed(bad_runs, cid):
    results, expect, before, after, _ = bad_runs
    p = results[cid]
    name, words, untouched = expect[cid]
    errors = [ln for ln in p.stderr.splitlines() if ln.startswith("error:")]
    assert p.returncode == 2, f"exit {p.returncode}\n{p.stderr[-3000:]}"
    assert "Traceback" not in p.stderr, p.stderr[-3000:]
    assert len(errors) == 1, p.stderr[-3000:]
    assert name in errors[0] and words in errors[0], errors[0]
    for path in untouched:
        if path.name.startswith("fresh_") or path.name in ("never.json", "bench.json"):
            assert not Path(path).exists(), f"{path} was written"
    assert before == after  # the finished run's folder and results file: byte for byte


VALID_CTX_ZH = "北京是中国的首都。上海是中国最大的城市。"
LONG_CTX = " ".join(f"word{i}" for i in range(700)) + " The last word is zebra"


@pytest.fixture(scope="module")
def valid_runs(workdir, tiny_model_dir):
    d = workdir / "valid"
    def zh_row(qid, context, question, text, start):
        return {"id": qid, "title": "中", "context": context, "question": question,
                "answers": {"text": [text] if text else [], "answer_start": [start] if text else []}}
    zh = [zh_row("z1", VALID_CTX_ZH, "中国的首都是哪里？", "北京", 0),
          zh_row("z2", VALID_CTX_ZH + " Mixed 中文 and English.", "最大的城市？", "上海", 9),
          zh_row("z3", VALID_CTX_ZH, "谁？", "", 0)]
    zh_train = write(d / "zh_train.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in zh))
    zh_eval = write(d / "zh_eval.jsonl", "\n".join(json.dumps({**r, "id": r["id"] + "e"}, ensure_ascii=False) for r in zh))
    long_q = "What " + " ".join(["very"] * 120) + " long question is this?"  # > --max_query_length 64 tokens
    last = LONG_CTX.index("zebra")
    odd_file = write(d / "odd.json", squad([art([qa("l1", long_q)]), art([qa("e1", "What is the last word?", "zebra",
                                                                              last)], context=LONG_CTX)]))
    odd_eval = write(d / "odd_eval.json", squad([art([qa("l1e", long_q)]), art([qa("e1e", "What is the last word?",
                                                                                  "zebra", last)], context=LONG_CTX)]))
    bom_crlf = ("\ufefftext,label,source\r\n" + "".join(f'"review {i}, with a comma",{("negative", "positive")[i % 2]},web\r\n'
                                                    for i in range(10))).encode("utf-8")
    imdb_file = write(d / "bom_crlf.csv", bom_crlf)
    fixed = write(d / "fixed.json", setf(GOOD, 3, *Q0, "answers", 0, "answer_start"))
    cases = [
        ("zh", squad_cmd(tiny_model_dir, d / "zh", validation=zh_eval, train=zh_train)),
        ("long_question_and_context", squad_cmd(tiny_model_dir, d / "odd_run", validation=odd_eval, train=odd_file)),
        ("imdb_bom_crlf_strings_extra_columns", imdb_cmd(tiny_model_dir, d / "imdb", imdb_file, imdb_file)),
        ("ask_empty_context", ["ask.py", "--model", tiny_model_dir, "--context", ""]),
        ("fixed_before", squad_cmd(tiny_model_dir, d / "fixed_before", validation=fixed)),
        ("skip_bad_answers", squad_cmd(tiny_model_dir, d / "skipped", "--skip_bad_answers", validation=fixed)),
    ]
    results = run_all(cases, d / "cache")
    write(fixed, GOOD)  # the same path, corrected: the rerun must read the corrected file, not a cache of the bad one
    results.update(run_all([("fixed_after", squad_cmd(tiny_model_dir, d / "fixed_after", validation=fixed))], d / "cache"))
    return d, results


def test_valid_unusual_input_runs(valid_runs):
    d, results = valid_runs
    for cid in ("zh", "long_question_and_context", "imdb_bom_crlf_strings_extra_columns", "ask_empty_context"):
        p = results[cid]
        assert p.returncode == 0, f"{cid}: exit {p.returncode}\n{p.stderr[-3000:]}"
    zh = json.loads((d / "zh.json").read_text())
    assert zh["metrics"]["total"] == 3 and zh["data"]["train"]["n_features_with_span"] == 2
    odd = json.loads((d / "odd_run.json").read_text())
    # the 700-word context spans many 128-token windows; the answer, its last word, is labelled in one of them
    assert odd["data"]["train"]["n_features"] > 8 and odd["data"]["train"]["n_features_with_span"] == 2
    imdb = json.loads((d / "imdb.json").read_text())
    assert imdb["data"]["counts"]["test"]["n"] == 10 and imdb["data"]["counts"]["test"]["positive"] == 5
    assert "no answer" in results["ask_empty_context"].stdout


def test_a_corrected_file_is_read_again(valid_runs):
    d, results = valid_runs
    p = results["fixed_before"]
    assert p.returncode == 2 and "answer_start 3" in p.stderr
    p = results["fixed_after"]
    assert p.returncode == 0, p.stderr[-3000:]
    assert json.loads((d / "fixed_after.json").read_text())["metrics"]["total"] == 3


def test_skip_bad_answers_leaves_them_out_and_counts_them(valid_runs):
    d, results = valid_runs
    p = results["skip_bad_answers"]
    assert p.returncode == 0, p.stderr[-3000:]
    r = json.loads((d / "skipped.json").read_text())
    assert r["metrics"]["total"] == 2 and r["data"]["skipped_bad_answers"] == {"train": None, "validation": 1}
