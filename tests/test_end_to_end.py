"""The scripts end to end with a tiny random BERT on real dev questions: files, provenance, resume, refusals."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bertkit.qa.scoring import squad_v2_metrics
from conftest import REPO

REQUIRED = ["task", "protocol", "command", "model", "data", "hyperparameters", "metrics", "output_dir", "timing",
            "hardware", "versions", "git_commit", "created"]
METRICS = ["exact", "f1", "total", "HasAns_exact", "HasAns_f1", "HasAns_total", "NoAns_exact", "NoAns_f1",
           "NoAns_total", "nonnull_HasAns_exact", "nonnull_HasAns_f1", "best_exact", "best_exact_thresh", "best_f1",
           "best_f1_thresh"]


def run(script, *args, check=True, **env_more):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", **env_more}
    p = subprocess.run([sys.executable, script, *map(str, args)], cwd=REPO, env=env, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"{script} failed ({p.returncode}):\n{p.stderr[-3000:]}")
    return p


@pytest.fixture(scope="module")
def common(tiny_model_dir, dev_file):
    return ["--model_name_or_path", tiny_model_dir, "--protocol", "dev-split", "--validation_file", dev_file,
            "--max_eval_samples", 24, "--max_seq_length", 128, "--doc_stride", 32, "--report_to", "none",
            "--per_device_eval_batch_size", 16, "--seed", 3]


@pytest.fixture(scope="module")
def runs(tmp_path_factory, common):
    d = tmp_path_factory.mktemp("runs")
    run("run_baseline.py", *common, "--output_dir", d / "base", "--results_file", d / "base.json")
    train = ["--do_train", "--max_train_samples", 32, "--max_train_unanswerable_fraction", 0.25,
             "--per_device_train_batch_size", 8, "--learning_rate", 1e-3, "--save_strategy", "epoch", "--logging_steps", 1,
             "--train_sampling_strategy", "group_by_length", "--null_score_diff_threshold", "auto",
             "--calibration_samples", 20]
    # Trained as on a CPU with bf16 in hardware (--precision auto takes bf16 autocast there; forced here so every
    # machine runs that path): an interrupted run: one epoch, checkpoint, no eval ...
    bf16 = {"BERTKIT_CPU_BF16": "1"}
    # ... with the laptop job's speed levers, on a machine whose C++ compiler is missing (torch.compile's probe
    # fails: the run trains without it, saying so) ...
    no_cxx = {"CXX": str(d / "no-such-g++"), "TORCHINDUCTOR_CACHE_DIR": str(d / "inductor")}
    p = run("run_squad.py", *common, *train, "--num_train_epochs", 1, "--output_dir", d / "ft", "--results_file",
            d / "ft1.json", "--attention_dropout", 0, "--train_attn_implementation", "eager", "--torch_compile", "true",
            **bf16, **no_cxx)
    (d / "ft1.stderr").write_text(p.stderr)
    # ... resumed to two epochs, evaluated, with the baseline carried in
    run("run_squad.py", *common, *train, "--do_eval", "--num_train_epochs", 2, "--output_dir", d / "ft",
        "--resume_from_checkpoint", d / "ft", "--results_file", d / "ft.json", "--baseline_results", d / "base.json",
        "--weight_average_share", 0.5, **bf16)  # the saved model: the mean of the second epoch's weights
    return d


def test_results_json_has_provenance_and_all_metrics(runs, tiny_model_dir):
    r = json.loads((runs / "ft.json").read_text())
    assert all(k in r for k in REQUIRED)
    assert all(k in r["metrics"] for k in METRICS) and all(k in r["baseline_metrics"] for k in METRICS)
    assert r["task"] == "squad_v2" and r["protocol"] == "dev-split"
    assert r["model"]["name_or_path"] == tiny_model_dir and len(r["model"]["sha256"]) == 64
    assert r["data"]["eval"]["n_examples"] == r["metrics"]["total"] == 24
    assert r["data"]["train"]["n_examples"] == 32 and r["data"]["train"]["n_unanswerable"] == 8
    assert r["data"]["files"]["validation"]["sha256"].startswith("c64fe26c")
    assert "run_squad.py" in r["command"] and "--resume_from_checkpoint" in r["command"]
    for k in ("preprocess_seconds", "train_seconds", "eval_seconds", "train_samples_per_second", "eval_samples_per_second"):
        assert r["timing"][k] > 0
    assert set(r["versions"]) >= {"python", "torch", "transformers", "datasets", "accelerate"}
    assert r["demo"]["question"] == "What is the capital of China?" and r["demo_baseline"] is not None
    rb, base = r["robustness"], json.loads((runs / "base.json").read_text())["robustness"]
    for x in (rb, base):  # short contexts of the run's own eval questions, and the committed plain questions
        assert x["short_context"]["answerable"] + x["short_context"]["unanswerable"] == 24
        assert (x["plain_questions"]["answerable"], x["plain_questions"]["unanswerable"]) == (36, 14)
    assert rb["threshold"] == r["null_threshold"]["value"] and len(rb["plain_questions"]["answers"]) == 50
    wa = r["weight_average"]  # resumed at the end of epoch 1, averaging epoch 2
    assert wa["share"] == r["hyperparameters"]["weight_average_share"] == 0.5
    assert wa["steps_averaged"] == wa["last_step"] - wa["first_step"] + 1 == wa["last_step"] // 2
    short = r["null_threshold"]["short_contexts"]  # calibrated on the same questions, one sentence each
    assert rb["short_context_threshold"] == short and short["n_questions"] == r["null_threshold"]["calibration"]["n_questions"]


def test_metrics_recompute_from_written_predictions(runs, dev_file):
    from bertkit.data.squad import read_squad_rows
    r = json.loads((runs / "ft.json").read_text())
    out = Path(r["output_dir"]) if Path(r["output_dir"]).is_absolute() else REPO / r["output_dir"]
    load = lambda n: json.loads((out / n).read_text())  # noqa: E731
    preds = load("predictions.json")
    rows = [x for x in read_squad_rows(dev_file) if x["id"] in preds]
    assert len(rows) == len(preds) == 24 and len(load("nbest_predictions.json")) == 24
    m = squad_v2_metrics(rows, preds, load("nonnull_predictions.json"), load("null_odds.json"))
    assert m == pytest.approx({k: r["metrics"][k] for k in m})
    odds, nonnull = load("null_odds.json"), load("nonnull_predictions.json")
    t = r["null_threshold"]["value"]  # calibrated: the predictions are scored at it
    assert all(preds[q] == ("" if odds[q] > t else nonnull[q]) for q in preds)
    at0 = squad_v2_metrics(rows, {q: "" if odds[q] > 0 else nonnull[q] for q in preds})
    assert r["metrics"]["f1_at_0"] == pytest.approx(at0["f1"])


def test_calibrated_threshold_is_recorded_saved_and_used(runs, common, tmp_path):
    r = json.loads((runs / "ft.json").read_text())
    t = r["null_threshold"]
    n = t["calibration"]["n_questions"]
    assert t["method"] == "calibrated" and n >= 20 and r["data"]["calibration"]["unit"] == "article"  # whole ones
    assert r["data"]["calibration"]["n_examples"] == n and r["timing"]["calibration_seconds"] > 0
    saved = json.loads((runs / "ft" / "qa_threshold.json").read_text())
    assert saved["value"] == t["value"] and saved["calibration"]["ids_sha256"] == r["data"]["calibration"]["ids_sha256"]
    # ask.py uses the saved threshold by default, and says so; --threshold overrides it
    p = run("ask.py", "--model", runs / "ft")
    assert "qa_threshold.json" in p.stdout and f"{t['value']:+.3f}" in p.stdout
    p = run("ask.py", "--model", runs / "ft", "--threshold=-1e9", "--json")  # below any margin: never answers
    assert json.loads(p.stdout)["threshold"]["source"] == "--threshold" and json.loads(p.stdout)["answer"] == ""
    # evaluating the saved model with auto reuses the saved value, without training-side questions
    p = run("run_squad.py", *common, "--model_name_or_path", runs / "ft", "--do_eval", "--null_score_diff_threshold",
            "auto", "--output_dir", tmp_path / "ev", "--results_file", tmp_path / "ev.json")
    ev = json.loads((tmp_path / "ev.json").read_text())
    assert ev["null_threshold"]["method"] == "saved" and ev["null_threshold"]["value"] == t["value"]
    assert ev["metrics"]["f1"] == pytest.approx(r["metrics"]["f1"])


@pytest.mark.parametrize("script,value,needle", [("run_squad.py", "sometimes", "give a number"),
                                                 ("run_baseline.py", "auto", "nothing to calibrate")])
def test_bad_threshold_is_one_clear_error(common, tmp_path, script, value, needle):
    p = run(script, *common, "--do_eval", "--null_score_diff_threshold", value, "--output_dir", tmp_path / "o",
            check=False)
    assert p.returncode == 2 and needle in p.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_speed_levers_recorded_and_compile_falls_back_without_a_compiler(runs):
    """--train_attn_implementation eager trains with eager attention and predicts (and saves) with the model's own
    kernel; --torch_compile without a working C++ compiler trains eagerly with one warning naming what to install."""
    rt = json.loads((runs / "ft1.json").read_text())["runtime"]
    assert (rt["train_attn_implementation"], rt["attn_implementation"], rt["attention_dropout"]) == ("eager", "sdpa", 0)
    assert rt["torch_compile"] is False and rt["torch_compile_fallback"], rt
    said = [ln for ln in (runs / "ft1.stderr").read_text().splitlines() if "--torch_compile:" in ln]
    assert len(said) == 1 and "C++ compiler" in said[0] and "TORCH_COMPILE=0" in said[0], said
    first = min((runs / "ft").glob("checkpoint-*"), key=lambda c: int(c.name.split("-")[1]))  # the first run's
    saved = json.loads((first / "config.json").read_text())
    assert "eager" not in json.dumps(saved) and saved["attention_probs_dropout_prob"] == 0


def test_resume_continued_the_interrupted_run(runs):
    ckpts = sorted((runs / "ft").glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    state = json.loads((ckpts[-1] / "trainer_state.json").read_text())
    r = json.loads((runs / "ft.json").read_text())
    first = json.loads((runs / "ft1.json").read_text())
    steps_epoch1 = first["loss_log"][-1]["step"]
    assert r["timing"]["resumed_from_checkpoint"].endswith(f"checkpoint-{steps_epoch1}")
    assert state["epoch"] == 2 and state["global_step"] == 2 * steps_epoch1
    steps = [x["step"] for x in r["loss_log"]]
    assert steps == list(range(1, 2 * steps_epoch1 + 1))  # epoch 1 restored from the checkpoint, not redone


def test_refuses_to_overwrite_and_keeps_earlier_results(runs, common):
    before = (runs / "ft.json").read_bytes()
    p = run("run_squad.py", *common, "--do_eval", "--output_dir", runs / "ft", "--results_file", runs / "ft.json", check=False)
    assert p.returncode == 2 and p.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "exists" in p.stderr and (runs / "ft.json").read_bytes() == before


def test_bad_data_path_is_one_clear_error(common, tmp_path):
    args = [a if not str(a).endswith(".json.gz") else tmp_path / "missing.json.gz" for a in common]
    p = run("run_baseline.py", *args, "--output_dir", tmp_path / "o", check=False)
    assert p.returncode == 2
    assert p.stderr.strip().splitlines()[-1].startswith("error: data file not found")
    assert not (tmp_path / "o" / "predictions.json").exists()


def test_ask_answers_with_the_trained_folder(runs):
    p = run("ask.py", "--model", runs / "ft", "--question", "Who wrote it?", "--context", "It was written by Ann.", "--json")
    r = json.loads(p.stdout)
    assert r["question"] == "Who wrote it?" and r["best_span"] in "It was written by Ann." and "null_odds" in r


def test_trainer_predictions_match_direct_forward(runs, dev_file):
    """Logits reach post-processing in window order (group_by_length must not reorder evaluation)."""
    from bertkit.data.squad import read_squad_rows
    from bertkit.qa.inference import answer
    from bertkit.train.modeling import load_qa_model
    r = json.loads((runs / "ft.json").read_text())
    out = Path(r["output_dir"]) if Path(r["output_dir"]).is_absolute() else REPO / r["output_dir"]
    odds = json.loads((out / "null_odds.json").read_text())
    nonnull = json.loads((out / "nonnull_predictions.json").read_text())
    rows = [x for x in read_squad_rows(dev_file) if x["id"] in odds]
    tok, model = load_qa_model(str(runs / "ft"), seed=0)
    direct = answer(model, tok, [x["question"] for x in rows], [x["context"] for x in rows], max_seq_length=128, doc_stride=32)
    assert [d["best_span"] for d in direct] == [nonnull[x["id"]] for x in rows]
    # fp32 both: trained under bf16 autocast, the run still predicts in fp32 (bf16 logits are ~1e-2 off)
    assert r["runtime"]["precision"] == "bf16" and r["runtime"]["prediction_precision"] == "fp32"
    assert [d["null_odds"] for d in direct] == pytest.approx([odds[x["id"]] for x in rows], abs=1e-4)


def test_before_after_table(runs):
    from bertkit.report.table import table
    r = json.loads((runs / "ft.json").read_text())
    text = table(r)
    assert "before" in text and "after" in text and "dev-split" in text and "demo after" in text
    assert len(text.splitlines()) >= 14
    assert ("did not learn which questions have no answer" in text) == (r["null_threshold"]["calibration"]["answered_share"] == 0)


def test_a_model_that_abstains_everywhere_says_so(runs, tmp_path):
    """Calibration found that answering never beats "no answer": ask.py says so in one line, and still shows
    the best span with its margin (and so do the table and the summary, from the same record)."""
    import shutil
    from bertkit.report.rows import squad_cells
    from bertkit.report.table import table
    model = tmp_path / "abstains"
    shutil.copytree(runs / "ft", model, ignore=shutil.ignore_patterns("checkpoint-*"))
    saved = json.loads((model / "qa_threshold.json").read_text())
    saved["calibration"]["answered_share"], saved["abstains_everywhere"] = 0.0, True
    (model / "qa_threshold.json").write_text(json.dumps(saved))
    out = run("ask.py", "--model", model).stdout.splitlines()
    notes = [ln for ln in out if ln.startswith("note: this model did not learn which questions have no answer")]
    assert len(notes) == 1 and "train longer" in notes[0]
    short = saved["short_contexts"]["value"]  # the demo's one-sentence context is asked at the short contexts' own
    assert f"({short:+.3f} for contexts of at most 50 words)" in next(ln for ln in out if ln.startswith("no-answer threshold"))
    assert out[-1].startswith(("best guess: ", "answer: ")) and f"it answers below {short:+.2f}" in out[-1]
    assert out[-1].startswith("answer: ") or "the model is not sure enough to answer: margin" in out[-1]
    r = json.loads((runs / "ft.json").read_text())
    r["null_threshold"] = saved
    assert "note: this model did not learn" in table(r)
    assert "abstains everywhere" in squad_cells(r)["no-answer threshold"]


def test_learning_curve_point_recomputes_the_run(runs, tmp_path):
    """A run read as a learning-curve point: its threshold re-chosen from the saved calibration files, and the
    eval F1 there recomputed from the prediction files, are the run's own; the report writes its table and plot."""
    from bertkit.report import learning_curve as curve
    r = json.loads((runs / "ft.json").read_text())
    assert all((runs / "ft" / f"{n}.json").is_file() for n in ("calibration_null_odds", "calibration_nonnull_predictions"))
    pt = curve.point(runs / "ft.json")
    method = r["hyperparameters"]["calibration_method"]
    assert method == "expected_gain" and set(pt["calibration_study"]) == set(curve.RULES)
    # the oracle is the eval questions' own best cut: no rule's threshold scores more there
    assert all(pt["calibration_study"]["oracle"]["f1"] >= s["f1"] - 1e-9 for s in pt["calibration_study"].values())
    # each answer floor only raises expected_gain's threshold, the higher floor the more
    floors = [pt["calibration_study"][f"answer_floor_{x:g}"]["threshold"] for x in curve.FLOORS]
    assert pt["calibration_study"]["expected_gain"]["threshold"] <= floors[0] <= floors[-1]
    for m in ("max_f1", "expected_gain"):  # both methods' thresholds re-chosen, and the run's own is its threshold
        assert pt[m]["threshold"] == pt["calibration_study"][m]["threshold"]
    assert pt[method]["threshold"] == pytest.approx(r["null_threshold"]["value"])
    assert pt[method]["f1"] == pytest.approx(r["metrics"]["f1"]) and pt["f1"] == r["metrics"]["f1"]
    assert pt[method]["HasAns_f1"] == pytest.approx(r["metrics"]["HasAns_f1"])
    assert pt[method]["demo_answer"] == r["demo"]["answer"]
    assert pt["windows"] == round(r["data"]["train"]["n_features"] * 2) and pt["train_seconds"] > 0
    boot = pt["calibration_study"][method]["bootstrap_f1"]
    assert boot["p05"] - 1e-9 <= boot["mean"] <= boot["p95"] + 1e-9 and boot["sd"] >= 0  # equal resamples: float sum
    png = curve.plot([pt], tmp_path / "curve.png")
    from PIL import Image
    assert Image.open(png).size == (800, 500)
    assert "| [ft](ft.json) |" in curve.table([pt]) and "| [ft](ft.json) |" in curve.rules_table([pt])


def test_saved_model_folder_has_no_pickles(runs):
    assert (runs / "ft" / "model.safetensors").is_file()
    assert not list((runs / "ft").glob("*.bin"))


def test_eval_strategy_steps_keeps_the_best_f1_checkpoint(common, tmp_path):
    """--eval_strategy steps + --load_best_model_at_end --metric_for_best_model f1: SQuAD scored during training
    (QuestionAnsweringTrainer.evaluate), the best checkpoint kept, and the final evaluation is that model's."""
    out = tmp_path / "best"
    run("run_squad.py", *common, "--do_train", "--do_eval", "--max_train_samples", 32, "--per_device_train_batch_size", 8,
        "--max_steps", 8, "--learning_rate", 1e-3, "--eval_strategy", "steps", "--eval_steps", 2,
        "--save_strategy", "steps", "--save_steps", 2, "--load_best_model_at_end", "true",
        "--metric_for_best_model", "f1", "--greater_is_better", "false", "--output_dir", out,
        "--results_file", f"{out}.json")
    r = json.loads(Path(f"{out}.json").read_text())
    log = r["eval_log"]
    assert [e["step"] for e in log] == [2, 4, 6, 8]
    # "best" = lowest F1 here: a tiny random model's F1 only rises (to "no answer" everywhere), so the kept model is
    # an early one, and the final evaluation can only match it if that checkpoint was really loaded at the end
    best = min(log, key=lambda e: e["f1"])
    assert best["f1"] != log[-1]["f1"] and r["best_checkpoint"].endswith(f"checkpoint-{best['step']}")
    assert r["metrics"]["f1"] == pytest.approx(best["f1"]) and r["metrics"]["exact"] == pytest.approx(best["exact"])
    assert (out / "bertkit.json").is_file() and json.loads((out / "bertkit.json").read_text())["doc_stride"] == 32


def test_length_sorted_eval_gives_the_dataset_order_predictions(runs, common, tmp_path):
    """Eval windows predicted longest first and mapped back: the same answers and null odds as dataset order."""
    from transformers import HfArgumentParser, TrainingArguments
    from bertkit.qa import arguments as A
    from bertkit.qa import steps as S
    from bertkit.qa.trainer import QuestionAnsweringTrainer
    from bertkit.train.modeling import ModelArguments, load_qa_model
    from bertkit.train.runtime import collator
    args = [str(a) for a in common] + ["--output_dir", str(tmp_path), "--per_device_eval_batch_size", "4"]
    model_args, data_args, targs = HfArgumentParser((ModelArguments, A.DataArguments, TrainingArguments)) \
        .parse_args_into_dataclasses(args)
    tok, model = load_qa_model(str(runs / "ft"), seed=0)
    q = S.load_questions(data_args, targs, need_train=False)
    _, examples, feats, _, _ = S.load_features(data_args, tok, targs, q)
    lengths = [len(x) for x in feats["input_ids"]]
    assert lengths != sorted(lengths, reverse=True)  # dataset order is not already longest first
    trainer = QuestionAnsweringTrainer(model=model, args=targs, processing_class=tok, data_args=data_args,
                                       data_collator=collator(tok, model_args, targs))
    got = {}
    for sort in (False, True):
        trainer.sort_eval_by_length = sort
        got[sort] = S.evaluate(trainer, examples, feats, data_args, tmp_path / str(sort), write=True)
    assert got[True][1] == got[False][1] and got[True][0] == pytest.approx(got[False][0])
    odds = [json.loads((tmp_path / str(s) / "null_odds.json").read_text()) for s in (False, True)]
    assert odds[0].keys() == odds[1].keys() and list(odds[1].values()) == pytest.approx(list(odds[0].values()), abs=1e-5)


def test_eval_order_benchmark_writes_its_json(runs, dev_file, tmp_path):
    out = tmp_path / "eval_order.json"
    p = run("benchmarks/eval_order.py", "--model", runs / "ft", "--data_dir", Path(dev_file).parents[1],
            "--max_eval_samples", 20, "--max_seq_length", 128, "--doc_stride", 32, "--repeats", 1, "--output", out)
    r = json.loads(out.read_text())
    assert r["identical_predictions"] is True and r["data"]["eval_questions"] == 20 and r["speedup"] > 0
    assert r["results"]["length_sorted"]["padded_tokens"] <= r["results"]["dataset_order"]["padded_tokens"]
    assert all(k in r for k in ("command", "model", "hardware", "versions", "git_commit"))
    assert "wrote" in p.stdout
