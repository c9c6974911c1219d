"""The model flags every entry point shares (run_squad.py, run_baseline.py, run_imdb.py): Hugging Face's names
where it has one, parsed by HfArgumentParser beside TrainingArguments."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ModelArguments:
    model_name_or_path: str = field(default="bert-base-uncased", metadata={
        "help": "Hub id or local folder. bert-base-uncased falls back to the offline MiniLM when it cannot be "
                "loaded; 'minilm' names that MiniLM directly."})
    trust_remote_code: bool = field(default=False, metadata={"help": "Run model code from the hub (off: safer)."})
    device: str = field(default="auto", metadata={
        "help": "auto (a CUDA GPU where there is one, else the CPU: Apple's MPS only when asked), cpu, cuda or mps "
                "(not yet measured). The one used is in the results JSON."})
    precision: str = field(default="auto", metadata={
        "help": "auto (bf16 on a bf16 GPU or as the accelerate config says, else fp32), bf16, fp16 or fp32. "
                "--bf16/--fp16 also work."})
    attn_implementation: str = field(default="auto", metadata={
        "help": "Attention kernel: auto (what the model class supports: sdpa where it has it, else eager, as for "
                "DeBERTa-v2/v3), sdpa (PyTorch scaled_dot_product_attention: flash/memory-efficient on GPUs), eager, "
                "or flash_attention_2 (needs the flash-attn package). The one used is in the results JSON."})
    model_dtype: str = field(default="float32", metadata={
        "help": "dtype of the weights as loaded and trained: float32 (default: fp32 master weights whatever the "
                "checkpoint's dtype; --precision adds bf16/fp16 autocast), or bfloat16, float16, auto (the "
                "checkpoint's dtype): pure low-precision training, whose optimizer rounds small updates away."})
    freeze_word_embeddings: bool = field(default=False, metadata={
        "help": "Do not train the input word embeddings (about half of MiniLM's weights): faster steps on a CPU."})
    freeze_layers: int | None = field(default=None, metadata={
        "help": "Do not train the embeddings and the first N transformer layers (backward stops above them)."})
    head_learning_rate: float | None = field(default=None, metadata={
        "help": "A learning rate of its own for the new task head (default: --learning_rate); the schedule "
                "scales both alike."})
    attention_dropout: float | None = field(default=None, metadata={
        "help": "Dropout on attention weights in training (default: the config's). 0 skips a random mask per attention "
                "matrix, a large cost of a CPU step (benchmarks/train_profile.py); it changes the recipe."})
    train_attn_implementation: str | None = field(default=None, metadata={
        "help": "Attention kernel for the training steps only (default: --attn_implementation's); predictions, the "
                "saved model and ask.py use --attn_implementation. eager: faster CPU training steps with "
                "--attention_dropout 0 (benchmarks/train_profile.py)."})
    answerability_head_weight: float | None = field(default=None, metadata={
        "help": "SQuAD: train a second head on the first token (is the answer in this window?) with this weight on "
                "its loss, and add its logit to the no-answer margin (bertkit/train/answerability.py). Default: none."})
    weight_average_share: float | None = field(default=None, metadata={
        "help": "Save (and evaluate) the mean of the weights after each of the last S of the optimizer steps, e.g. "
                "0.3 (default: the last step's weights). Not with --load_best_model_at_end."})
    prediction_precision: str = field(default="fp32", metadata={
        "help": "fp32 (default: predictions as ask.py makes them) or bf16: predictions (evaluation, calibration, the "
                "demo) under bf16 autocast, weights kept in fp32 (the saved model is unchanged). Faster on a CPU with "
                "bf16 in hardware; a few answers change (benchmarks/vs_run_qa.py)."})
    pad_to_multiple_of: int | None = field(default=None, metadata={
        "help": "Round each batch's padded length up to this (default: 8 in bf16/fp16 on a GPU, for tensor "
                "cores; else no rounding). 1 turns it off."})

