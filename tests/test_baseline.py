"""run_baseline.py scores the model as it is: a training flag on its command line is one error line, before any
work (bertkit.qa.evaluation.refuse_training_flags); the flags it shares with run_squad.py's evaluation pass."""
import json
import os
import subprocess
import sys

import pytest

from bertkit.errors import UserError
from bertkit.qa.evaluation import flags_given, refuse_training_flags
from conftest import REPO


@pytest.fixture(scope="module")
def flags():
    from run_baseline import FLAGS
    return FLAGS


def test_a_training_flag_is_one_error_line_and_nothing_is_written(tmp_path):
    out = tmp_path / "base"
    p = subprocess.run([sys.executable, "run_baseline.py", "--model_name_or_path", "minilm", "--protocol", "dev-split",
                        "--validation_file", tmp_path / "dev.json.gz", "--learning_rate", "1e-3", "--output_dir", out,
                        "--results_file", tmp_path / "base.json"], cwd=REPO, capture_output=True, text=True,
                       env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert p.returncode == 2, p.stderr[-2000:]
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: run_baseline.py "), p.stderr
    assert "--learning_rate is a training flag" in lines[0] and "run_squad.py trains" in lines[0]
    assert not out.exists() and not (tmp_path / "base.json").exists()


def test_training_flags_are_found_as_the_parser_reads_them(flags, tmp_path):
    argv = ["--output_dir", "o", "--seed", "3", "--learning-rate=1e-3", "--do_eval", "--num_train_ep", "2",
            "--max_train_samples", "5", "--do_train"]
    assert flags_given(flags, argv) == ["output_dir", "seed", "learning_rate", "do_eval", "num_train_epochs",
                                        "max_train_samples", "do_train"]
    with pytest.raises(UserError) as e:
        refuse_training_flags(flags, argv, "run_baseline.py")
    assert "--learning_rate, --num_train_epochs, --max_train_samples, --do_train are training flags" in str(e.value)
    given = tmp_path / "flags.json"  # a .json file of flag values: its keys are what it gives
    given.write_text(json.dumps({"output_dir": "o", "warmup_steps": 0.1}))
    with pytest.raises(UserError, match="--warmup_steps is a training flag"):
        refuse_training_flags(flags, [str(given)], "run_baseline.py")


def test_the_evaluation_and_data_flags_pass(flags):
    # what the scripts give it: squad_common.sh's COMMON (--train_file with DATASET=official) and launch_common.sh's
    # SPEED_ARGS (scripts/finetune_full.sh; the training ones, TRAIN_SPEED_ARGS, go to run_squad.py only)
    refuse_training_flags(flags, ["--model_name_or_path", "m", "--train_file", "t.json", "--validation_file", "d.json",
                                  "--max_eval_samples", "10", "--per_device_eval_batch_size", "32", "--seed", "42",
                                  "--do_eval", "--null_score_diff_threshold", "-1", "--report_to", "none",
                                  "--precision", "bf16", "--dataloader_num_workers", "4", "--torch_compile", "false",
                                  "--output_dir", "o"], "run_baseline.py")
