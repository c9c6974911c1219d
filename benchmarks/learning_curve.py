"""The laptop job's learning curve on this CPU: scripts/finetune_subset.sh at growing training budgets.

    .venv/bin/python benchmarks/learning_curve.py list              # the points and which are done
    .venv/bin/python benchmarks/learning_curve.py run [POINT ...]   # run the points not done yet (default: all), one at a time
    .venv/bin/python benchmarks/learning_curve.py report            # results/learning_curve/README.md + the plot

Each point is one run of the laptop pipeline (calibrated threshold on the 400 held-out questions, the 1,000
eval questions of its seed, everything else the script's defaults) with the knobs below, written to
results/learning_curve/<point>.json (its exact command in `launched_by`) and <point>/ (model, prediction and
calibration files; git keeps the small ones). A point whose JSON exists is never rerun or overwritten, so an
interrupted curve goes on where it stopped. Run it alone on the machine: two torch jobs on 2 cores slow each
other down, and the minutes are part of the result. The figures come from bertkit.report.learning_curve.
"""
from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bertkit.results.record import REPO, write_text_atomic  # noqa: E402

FOLDER = REPO / "results" / "learning_curve"
FIXED = {"BASELINE": "0", "REPORT": "0"}  # the baseline is the same at every budget: the committed default run has it
# name -> (group, knobs of scripts/finetune_subset.sh). Groups: "curve", the default recipe at growing budgets
# (the plot); "recipe", another recipe at the budget of a curve point; "seed", a point on another seed;
# "paragraph", runs of the earlier calibration hold-out (whole paragraphs instead of whole articles).
# MAX_TRAIN_SAMPLES empty: every training question the unanswerable cap keeps.
ALL = {"MAX_TRAIN_SAMPLES": ""}
PARA = {"CALIBRATION_UNIT": "paragraph", "HEAD_LR": "", "CALIBRATION_METHOD": "max_f1"}  # as they ran: before all three became the default


def floor60(seed: str | None = None, precision: str | None = None) -> dict:
    """Today's default recipe (short-context training, random negatives, answer floor 0.6) on `seed` / `precision`,
    its knobs in the order the points ran with (their JSONs' launched_by)."""
    return {**ALL, "EPOCHS": "2.4", **({"SEED": seed} if seed else {}), "SHORT_CONTEXT_SHARE": "0.5",
            "SHORT_CONTEXT_NEGATIVES": "random", "CALIBRATION_ANSWER_FLOOR": "0.6",
            **({"PRECISION": precision} if precision else {})}


POINTS = {
    # the default recipe (20 % unanswerable at most, head learning rate 3e-3) at growing budgets
    "hlr_3200q_e1": ("curve", {"MAX_TRAIN_SAMPLES": "3200", "EPOCHS": "1"}),   # the quick job's budget
    "hlr_all_e1": ("curve", {**ALL, "EPOCHS": "1"}),         # every question the 20 % cap keeps, once
    "hlr_all_e1.4": ("curve", {**ALL, "EPOCHS": "1.4"}),
    "hlr_all_e1.8": ("curve", {**ALL, "EPOCHS": "1.8"}),
    "hlr_all_e2.4": ("curve", {**ALL, "EPOCHS": "2.4"}),     # the default job's budget
    "hlr_all_e3.4": ("curve", {**ALL, "EPOCHS": "3.4"}),
    "hlr_all_e5.4": ("curve", {**ALL, "EPOCHS": "5.4"}),     # the longest (its minutes: results/learning_curve/README.md)
    # the default job's budget (hlr_all_e2.4, seed 42) on two more seeds: other QA-head initialisation, training,
    # calibration and eval questions, order
    "hlr_all_e2.4_seed7": ("seed", {**ALL, "EPOCHS": "2.4", "SEED": "7"}),
    "hlr_all_e2.4_seed1234": ("seed", {**ALL, "EPOCHS": "2.4", "SEED": "1234"}),
    # the quick job (QUICK=1: 3,200 questions once, one learning rate)
    "quick": ("recipe", {"QUICK": "1"}),
    # issue 30's levers for answering short texts, on the default recipe of issue 29 (no attention dropout,
    # eager attention in training), seed 42; "robust": each point's short-context and plain-questions figures
    "r30_default": ("robust", {**ALL, "EPOCHS": "2.4", "SHORT_CONTEXT_SHARE": ""}),  # the recipe before issue 30
    # half the training questions asked again on one sentence: the answer's, and a close one without it
    "r30_short50": ("robust", {**ALL, "EPOCHS": "2.4", "SHORT_CONTEXT_SHARE": "0.5",
                               "SHORT_CONTEXT_NEGATIVES": "closest"}),  # as it ran (closest was then the only way)
    "r30_short50_random": ("robust", {**ALL, "EPOCHS": "2.4", "SHORT_CONTEXT_SHARE": "0.5",
                                      "SHORT_CONTEXT_NEGATIVES": "random"}),
    # both on two more seeds (the short contexts' own threshold calibrated in every run from here on)
    "r30_default_seed7": ("robust", {**ALL, "EPOCHS": "2.4", "SEED": "7", "SHORT_CONTEXT_SHARE": ""}),
    "r30_short50_random_seed7": ("robust", {**ALL, "EPOCHS": "2.4", "SEED": "7", "SHORT_CONTEXT_SHARE": "0.5",
                                            "SHORT_CONTEXT_NEGATIVES": "random"}),
    "r30_default_seed1234": ("robust", {**ALL, "EPOCHS": "2.4", "SEED": "1234", "SHORT_CONTEXT_SHARE": ""}),
    "r30_short50_random_seed1234": ("robust", {**ALL, "EPOCHS": "2.4", "SEED": "1234", "SHORT_CONTEXT_SHARE": "0.5",
                                               "SHORT_CONTEXT_NEGATIVES": "random"}),
    # the default recipe (short contexts, random negatives) with twice the calibration questions: the three seeds'
    # thresholds came out 0.6 to 3.3 off their eval questions' best (seed 7 the farthest, too cautious)
    "r30_cal800_seed7": ("robust", {**ALL, "EPOCHS": "2.4", "SEED": "7", "CALIBRATION_SAMPLES": "800"}),
    # the default recipe with the saved weights the mean over the last 30 % of the steps (--weight_average_share)
    "r30_avg30": ("robust", {**ALL, "EPOCHS": "2.4", "WEIGHT_AVERAGE_SHARE": "0.3"}),
    "r30_avg30_seed7": ("robust", {**ALL, "EPOCHS": "2.4", "SEED": "7", "WEIGHT_AVERAGE_SHARE": "0.3"}),
    # each answerable copy's "no answer" sentence random or closest by a coin: closest alone made the model abstain
    # on a sentence repeating the question (the demo), random alone leaves the closest-sentence check weak
    "r30_mixed": ("robust", {**ALL, "EPOCHS": "2.4", "SHORT_CONTEXT_NEGATIVES": "mixed"}),
    # an answerability head on the first token trained with the span loss (weight 1), its logit added to the margin
    "r30_verifier": ("robust", {**ALL, "EPOCHS": "2.4", "ANSWERABILITY_HEAD_WEIGHT": "1"}),
    "r30_verifier_seed7": ("robust", {**ALL, "EPOCHS": "2.4", "SEED": "7", "ANSWERABILITY_HEAD_WEIGHT": "1"}),
    # the default recipe with its thresholds raised to answer at least 3/4 as many calibration questions as are
    # answerable (--calibration_answer_floor: the floor the rules table tries on every point), in fp32 (Part 3's
    # other precision, as on a CPU without bf16 in hardware), seed 42: a run the floor was not chosen on
    "r30_floor75_fp32": ("robust", {**ALL, "EPOCHS": "2.4", "SHORT_CONTEXT_SHARE": "0.5",
                                    "SHORT_CONTEXT_NEGATIVES": "random", "CALIBRATION_ANSWER_FLOOR": "0.75",
                                    "PRECISION": "fp32"}),
    # the default recipe itself in fp32 on the other two seeds (Part 3's second precision; seed 42's fp32 model is
    # r30_floor75_fp32's, re-scored without the floor: calibration does not touch training)
    "r30_short50_random_seed7_fp32": ("robust", {**ALL, "EPOCHS": "2.4", "SEED": "7", "SHORT_CONTEXT_SHARE": "0.5",
                                                 "SHORT_CONTEXT_NEGATIVES": "random", "PRECISION": "fp32"}),
    "r30_short50_random_seed1234_fp32": ("robust", {**ALL, "EPOCHS": "2.4", "SEED": "1234", "SHORT_CONTEXT_SHARE": "0.5",
                                                    "SHORT_CONTEXT_NEGATIVES": "random", "PRECISION": "fp32"}),
    # the default recipe with the answer floor 0.6 (chosen after seeing the six runs above: in-sample) on three
    # fresh seeds, the test of it before it becomes the laptop default; without the floor: their rules-table row
    "r30_floor60_seed2": ("robust", floor60("2")),
    "r30_floor60_seed3": ("robust", floor60("3")),
    "r30_floor60_seed5": ("robust", floor60("5")),
    # and in fp32 (Part 3's other precision) on a fresh seed
    "r30_floor60_seed2_fp32": ("robust", floor60("2", "fp32")),
    # the default recipe with more of the unanswerable questions (35 % at most instead of 20 %) at about the same
    # training windows (2.0 epochs over 5,815 questions against 2.4 over 4,725): more "no answer" examples, on
    # paragraphs and on their closest sentence, for the ranking the short-text bars need
    "r30_unans35_e2": ("robust", {**ALL, "EPOCHS": "2.0", "UNANSWERABLE_FRACTION": "0.35", "SHORT_CONTEXT_SHARE": "0.5",
                                  "SHORT_CONTEXT_NEGATIVES": "random", "CALIBRATION_ANSWER_FLOOR": "0.6"}),
    # the question with a name or number swapped, against its answer's sentence, as no answer (SHORT_CONTEXT_SWAP)
    "r30_swap": ("robust", {**floor60(), "SHORT_CONTEXT_SWAP": "1"}),
    "r30_swap_seed7": ("robust", {**floor60("7"), "SHORT_CONTEXT_SWAP": "1"}),
    # Part 3's table for today's default recipe (floor 0.6): seeds 7 and 1234 in bf16 (seed 42's is the committed
    # fresh-clone run), and all three seeds in fp32
    "r30_floor60_seed7": ("robust", floor60("7")),
    "r30_floor60_seed1234": ("robust", floor60("1234")),
    "r30_floor60_fp32": ("robust", floor60(precision="fp32")),
    "r30_floor60_seed7_fp32": ("robust", floor60("7", "fp32")),
    "r30_floor60_seed1234_fp32": ("robust", floor60("1234", "fp32")),
    # issue 32: the second real model (all-mpnet-base-v2, MODEL=mpnet, the recipe for other models), 1,000 training
    # questions once (its minutes: results/learning_curve/README.md)
    "m32_mpnet_1000q_e1": ("model", {"MODEL": "mpnet", "MAX_TRAIN_SAMPLES": "1000", "EPOCHS": "1"}),
    # the same at about an hour of training: ~2.9x the questions, once
    "m32_mpnet_2900q_e1": ("model", {"MODEL": "mpnet", "MAX_TRAIN_SAMPLES": "2900", "EPOCHS": "1"}),
    # The first runs held out whole *paragraphs* for calibration (then the default; files renamed *_para): on
    # trained articles the model is surer of itself than on new ones, and the threshold came out too high.
    "c20_all_e1.8_para": ("paragraph", {**ALL, "EPOCHS": "1.8", **PARA}),
    "c33_all_e1.4_para": ("paragraph", {**ALL, "UNANSWERABLE_FRACTION": "0.33", "EPOCHS": "1.4", **PARA}),
    "c20_all_e2.4_para": ("paragraph", {**ALL, "EPOCHS": "2.4", **PARA}),
    "c20_all_e2.4_headlr3e-3_para": ("paragraph", {**ALL, "EPOCHS": "2.4", "EXTRA_ARGS": "--head_learning_rate 3e-3",
                                                   **PARA}),
}


def command(name: str, knobs: dict) -> tuple[dict, str]:
    env = {**knobs, **FIXED, "RUN_NAME": name, "OUTPUT_DIR": f"results/learning_curve/{name}",
           "RESULTS_FILE": f"results/learning_curve/{name}.json"}
    line = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items()) + " bash scripts/finetune_subset.sh"
    return env, line


def run(names: list[str]) -> int:
    for name in names or list(POINTS):
        if name not in POINTS:
            print(f"error: no point {name!r}; the points: {', '.join(POINTS)}", file=sys.stderr)
            return 2
        if (FOLDER / f"{name}.json").exists():
            print(f"{name}: done ({FOLDER / name}.json), skipped")
            continue
        env, line = command(name, POINTS[name][1])
        (FOLDER / name).mkdir(parents=True, exist_ok=True)
        log = FOLDER / name / "run.log"
        print(f"+ {line}  > {log.relative_to(REPO)}", flush=True)
        # bash reads a script as it runs it: run a copy, so editing scripts/ during an hour-long point is safe
        snap = REPO / "scripts" / f".learning_curve_{os.getpid()}.sh"
        shutil.copyfile(REPO / "scripts" / "finetune_subset.sh", snap)
        try:
            with open(log, "w") as f:
                rc = subprocess.run(["bash", str(snap)], cwd=REPO, stdout=f, stderr=subprocess.STDOUT,
                                    env={**os.environ, **env, "BERTKIT_LAUNCHER": line}).returncode
        finally:
            snap.unlink(missing_ok=True)
        if rc != 0:
            print(f"error: {name} failed (exit {rc}); see {log}", file=sys.stderr)
            return rc
    return 0


def report() -> int:
    from bertkit.report import learning_curve as curve
    points, skipped = curve.read_points(FOLDER)
    group = {name: g for name, (g, _) in POINTS.items()}
    line = [p for p in points if group.get(p["name"]) == "curve"]
    if not line:
        print(f"error: no finished curve point in {FOLDER}; run: .venv/bin/python benchmarks/learning_curve.py run",
              file=sys.stderr)
        return 2
    png = curve.plot(line + [p for p in points if group.get(p["name"]) == "seed"],
                     REPO / "results" / "plots" / "learning_curve.png")
    others = {g: [p for p in points if group.get(p["name"]) == g] for g in ("recipe", "seed", "paragraph", "model")}
    unknown = [p for p in points if p["name"] not in group]
    lines = ["# Learning curve of the laptop job (`scripts/finetune_subset.sh`, MiniLM, 2 CPU cores)", "",
             "Written by `.venv/bin/python benchmarks/learning_curve.py report` from the points' JSON and prediction files; "
             "every point is one real run, made by the command in its JSON's `launched_by` (`.venv/bin/python "
             "benchmarks/learning_curve.py run <point>`). Protocol **dev-split** (train on dev articles 0–24, "
             "evaluate on 1,000 seeded questions of articles 25–34; not official SQuAD 2.0 numbers). Every point "
             "holds out the 400 calibration questions of its seed (at least 400, as whole training articles, never "
             "trained on) and chooses the no-answer threshold on them. The F1 in the tables is at the threshold "
             "`--calibration_method expected_gain` (the default) picks there; the F1 of the plain F1-maximising cut "
             "(`max_f1`) on the same calibration predictions is beside it in brackets: calibration does not touch "
             "training, so that is exactly what the run would have reported with `max_f1`.", "",
             f"![learning curve](../plots/{png.name})", "", "## The default recipe at growing budgets", "",
             curve.table(line), ""]
    if others["recipe"]:
        lines += ["## Other recipes at a curve point's budget", "", curve.table(others["recipe"]), ""]
    if others["seed"]:
        lines += ["## Other seeds", "", curve.table(others["seed"]), ""]
    if others["model"]:
        lines += ["## Another model: all-mpnet-base-v2 (issue 32)", "",
                  "`MODEL=mpnet` (12 layers, 110M parameters; docs/encoders.md) with the laptop script's recipe for "
                  "models other than MiniLM; compare its F1 with the MiniLM rows above at the same training minutes "
                  "(the minutes column), on the same kind of CPU.", "", curve.table(others["model"]), ""]
    robust = [p for p in points if group.get(p["name"]) == "robust"]
    if robust:
        lines += ["## Answering short texts (issue 30)", "",
                  "Each point's paragraph F1 and demo at its own calibrated threshold, and the short-text checks "
                  "at that threshold (`robustness` in its JSON, bertkit/qa/robustness.py): *short contexts*, the "
                  "eval questions each with one sentence of its paragraph (the answer's; for an unanswerable "
                  "question the closest one); *plain questions*, the 50 of benchmarks/data/plain_questions.jsonl. "
                  "Answered and right (F1 >= 0.5) are of the answerable ones, abstained of the others, in percent. "
                  "The last column is what the model's ranking allows on each set (`reachable`, an oracle: the "
                  "set's own labels choose the cut; points from before it was recorded show –): the most it "
                  "answers while abstaining on at least issue 30's bar (60 % of the short contexts, 75 % of the "
                  "plain questions). Where it is below 80 % (short contexts) or 85 % right (plain), no threshold "
                  "meets that bar for the point's model.",
                  "", curve.robust_table(robust), ""]
    studied = [p for p in points if group.get(p["name"]) in ("curve", "seed", "robust", "model")]
    lines += ["## Where the threshold lands: calibration rules beside the oracle (issue 30)", "",
              "Each point's eval F1 and HasAns F1 at the threshold each rule picks on the point's own calibration "
              "predictions (no rerun: calibration does not touch training): `max_f1` and `expected_gain` as "
              "above; `answerable_share`, answer as many calibration questions as are answerable there, by the "
              "no-answer margin; `answer_floor_X`, expected_gain's threshold raised where it answers fewer than "
              "X times as many as are answerable there (`--calibration_answer_floor X`, X = "
              f"{' and '.join(f'{x:g}' for x in curve.FLOORS)}); "
              "`oracle`, the eval questions' own best cut (not a rule a run can use: it shows "
              "what the model's ranking allows). Where even the oracle's HasAns F1 is low, no threshold makes the "
              "model answer more without losing paragraph F1.", "", curve.rules_table(studied), ""]
    if others["paragraph"]:
        lines += ["## Calibrated on held-out paragraphs instead of articles (the first runs)", "",
                  "The same pipeline, but the calibration questions were whole paragraphs of the training articles "
                  "(then the default; these files were renamed `*_para` afterwards, their JSONs are unchanged). On "
                  "articles it was trained on, the model is surer of itself than on new ones: the calibration "
                  "questions gained more from answering than the eval questions could, and the threshold came out "
                  "too high. Whole held-out articles (the rows above) are new to the model, as the eval articles "
                  "are.", "", curve.table(others["paragraph"]), ""]
    if unknown:
        lines += ["## Runs not in benchmarks/learning_curve.py's list", "", curve.table(unknown), ""]
    lines += ["Training windows: windows per epoch x epochs. Minutes and windows/s: the training step alone, on the "
              "machine in the JSON (`hardware.cpu_model`). Calibration noise: the sd of the eval F1 over "
              f"{curve.BOOTSTRAP} bootstrap resamples of the calibration questions, each resample's threshold "
              "chosen again by `expected_gain` (`calibration_study` in bertkit/report/learning_curve.py has both methods).", ""]
    if skipped:
        lines += ["Not (yet) points:", ""] + [f"- `{f}`: {why}" for f, why in skipped] + [""]
    write_text_atomic(FOLDER / "README.md", "\n".join(lines))
    print(f"wrote {FOLDER / 'README.md'} and {png}")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="what", required=True)
    sub.add_parser("list")
    r = sub.add_parser("run")
    r.add_argument("points", nargs="*")
    sub.add_parser("report")
    a = p.parse_args(argv)
    if a.what == "list":
        for name, (group, knobs) in POINTS.items():
            done = "done" if (FOLDER / f"{name}.json").exists() else "to run"
            print(f"{name:<24} {group:<7} {done:<7} {command(name, knobs)[1]}")
        return 0
    return run(a.points) if a.what == "run" else report()


if __name__ == "__main__":
    sys.exit(main())
