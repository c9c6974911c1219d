"""Fine-tune a BERT-style model for IMDB sentiment (positive / negative), offline by default: run_classification.py
with IMDB's fixed classes (labels 0/1, neg/pos or negative/positive) and its records (task imdb).

    .venv/bin/python run_imdb.py --model_name_or_path minilm --train_file data/imdb/train.csv.gz \
        --test_file data/imdb/test.csv.gz --max_train_samples 2000 --max_predict_samples 1000 \
        --do_train --do_eval --do_predict --output_dir outputs/imdb
(data/: where bash scripts/get_data.sh imdb puts the files; `python3 -m bertkit.data.fetch --where` prints the folder used.)
Full size on one or many GPUs (bert-base-uncased, Sun et al. 2019's recipe): bash scripts/imdb_full.sh, i.e.
    .venv/bin/accelerate launch --config_file scripts/accelerate/single_gpu_bf16.yaml run_imdb.py \
        --model_name_or_path bert-base-uncased --train_file data/imdb/train.csv.gz \
        --test_file data/imdb/test.csv.gz --do_train --do_eval --do_predict --max_seq_length 512 \
        --learning_rate 2e-5 --per_device_train_batch_size 24 --num_train_epochs 4 --eval_strategy epoch \
        --save_strategy epoch --load_best_model_at_end true --metric_for_best_model accuracy --output_dir outputs/imdb_full
IMDB has no validation split: --validation_size reviews are held out of train (seeded, stratified).
--do_predict scores the test reviews before (baseline_metrics) and after fine-tuning.
Other labels, text pairs, several labels per text: run_classification.py (docs/your-data.md).
"""
from bertkit.errors import exit_on_user_error
from run_classification import main

if __name__ == "__main__":
    exit_on_user_error(lambda: main("imdb"))
