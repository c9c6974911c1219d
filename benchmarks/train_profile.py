"""Where a training step's time goes on this machine, and how near it comes to the machine's matmul peak.

Builds the job's own Trainer (run_squad.py's setup, the flags after `--`), then: --warmup untimed steps (kernel
choice, a compile), --steps timed steps (the training rate, windows/s and real tokens/s), --profile_steps steps
under torch.profiler (CPU), whose op times are summed by kind: matmuls, attention, LayerNorm/GELU/dropout,
embeddings, casts and copies, other ops, the optimizer, data collation, and the rest (Python, the Trainer).
The roofline: this machine's measured peak for large fp32 and (where the CPU has bf16 in hardware) bf16
`torch.mm` on the torch threads, and the training step's achieved FLOP/s counted in real (non-pad) tokens:
6 x non-embedding parameters per token + 12 x layers x hidden x the window's real length (attention), the
PaLM paper's accounting (Chowdhery et al. 2022, appendix B), against the peak of the precision it trains in.

The job's flags after `--` are run_squad.py's training flags, e.g. the default laptop job's (scripts/finetune_subset.sh)
with --null_score_diff_threshold 0 --save_strategy no and an --output_dir of its own.
    .venv/bin/python benchmarks/train_profile.py --peak_only    # the matmul peaks alone
Writes results/benchmarks/train_profile_<time>.json (never overwrites). Run it alone on the cores.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bertkit.errors import UserError, exit_on_user_error  # noqa: E402
from bertkit.results.record import REPO, provenance, write_json_atomic  # noqa: E402

# Op name fragments -> kind, first match wins (self CPU time of each op, so nothing is counted twice).
KINDS = (("compiled kernels (inductor)", ("CompiledFxGraph",)),
         ("attention", ("scaled_dot_product", "_flash_attention", "softmax", "baddbmm", "bmm")),
         ("matmul", ("aten::mm", "aten::addmm", "aten::matmul", "aten::linear", "mkldnn", "onednn")),
         ("layernorm/gelu/dropout", ("layer_norm", "gelu", "dropout", "bernoulli", "native_dropout")),
         ("embeddings", ("embedding",)),
         ("casts/copies", ("aten::to", "_to_copy", "copy_", "aten::clone", "contiguous")))
# Annotations the op sits under (its parents) -> kind: the optimizer and the data loader's collation.
SCOPES = (("optimizer", ("Optimizer.step", "Optimizer.zero_grad", "_fused_adam")),
          ("data collation", ("enumerate(DataLoader)", "DataLoader")))


def matmul_peak(dtype, n: int, seconds: float) -> float:
    """Measured FLOP/s of an n x n x n torch.mm in `dtype` on the torch threads (best of repeated rounds)."""
    import torch
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    for _ in range(2):
        torch.mm(a, b)
    best, t_end = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < t_end:
        t0 = time.perf_counter()
        for _ in range(3):
            torch.mm(a, b)
        best = max(best, 3 * 2 * n ** 3 / (time.perf_counter() - t0))
    return best


def peaks(seconds: float) -> dict:
    import torch
    from bertkit.train.runtime import cpu_native_bf16
    out = {"threads": torch.get_num_threads(), "fp32_flops": round(matmul_peak(torch.float32, 2048, seconds)),
           "shape": "2048 x 2048 x 2048 torch.mm, best round", "bf16_native": cpu_native_bf16()}
    if out["bf16_native"]:
        out["bf16_flops"] = round(matmul_peak(torch.bfloat16, 2048, seconds))
    return out


def flops_per_window(cfg, n: int) -> float:
    """Training FLOPs of one window of n real tokens: 6 x non-embedding parameters x n + attention 12 L h n^2."""
    h, L, i = cfg.hidden_size, cfg.num_hidden_layers, cfg.intermediate_size
    non_embedding = L * (4 * h * h + 2 * h * i) + 2 * h  # q, k, v, o + the MLP, and the QA head
    return 6 * non_embedding * n + 12 * L * h * n * n


class Counting:
    """The Trainer's collator, counting each batch's real and padded tokens (and its FLOPs) as it goes."""

    def __init__(self, collate, cfg):
        self.collate, self.cfg, self.batches = collate, cfg, []

    def __call__(self, rows):
        batch = self.collate(rows)
        real = batch["attention_mask"].sum(dim=1).tolist()
        self.batches.append({"real": sum(real), "padded": batch["input_ids"].numel(),
                             "flops": sum(flops_per_window(self.cfg, n) for n in real)})
        return batch


def kind_of(event) -> str:
    parent = event.cpu_parent
    while parent is not None:
        for kind, names in SCOPES:
            if any(n in parent.name for n in names):
                return kind
        parent = parent.cpu_parent
    for kind, names in SCOPES + KINDS:
        if any(n in event.name for n in names):
            return kind
    return "other ops"


def profile_table(prof, wall: float) -> dict:
    """Seconds and share of the profiled wall time by kind; 'python/trainer' is what no op accounts for."""
    by = {}
    for e in prof.events():
        if e.device_type.name != "CPU" or e.name.startswith("ProfilerStep") or \
                (e.is_user_annotation and "CompiledFxGraph" not in e.name):  # a compiled graph's own kernels count
            continue
        by[kind_of(e)] = by.get(kind_of(e), 0.0) + e.self_cpu_time_total / 1e6
    by["python/trainer (no op)"] = max(wall - sum(by.values()), 0.0)
    return {k: {"seconds": round(v, 3), "share": round(v / wall, 4)} for k, v in sorted(by.items(), key=lambda kv: -kv[1])}


def top_ops(prof, wall: float, n: int = 15) -> list[dict]:
    """The n ops with the most self CPU time, with their kind: what the table's kinds are made of."""
    rows = sorted(prof.key_averages(), key=lambda r: -r.self_cpu_time_total)
    return [{"op": r.key, "kind": next((k for k, names in SCOPES + KINDS if any(x in r.key for x in names)), "other ops"),
             "calls": r.count, "seconds": round(r.self_cpu_time_total / 1e6, 3),
             "share": round(r.self_cpu_time_total / 1e6 / wall, 4)} for r in rows[:n]]


def parse_args(argv):
    argv = list(sys.argv[1:] if argv is None else argv)
    ours, job = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                usage="%(prog)s [options] -- <run_squad.py training flags>")
    p.add_argument("--warmup", type=int, default=10, help="untimed steps first (kernel choice, a compile)")
    p.add_argument("--steps", type=int, default=60, help="timed steps: the training rate")
    p.add_argument("--profile_steps", type=int, default=10, help="steps under torch.profiler after them (0: none)")
    p.add_argument("--peak_seconds", type=float, default=3.0, help="how long each matmul peak is measured")
    p.add_argument("--peak_only", action="store_true", help="measure the matmul peaks only")
    p.add_argument("--label", default="", help="a name for this set-up in the JSON (e.g. the lever it tries)")
    p.add_argument("--output", default=None, help="results JSON (default results/benchmarks/train_profile_<time>.json)")
    a = p.parse_args(ours)
    if not a.peak_only and not job:
        p.error("give the job's run_squad.py training flags after -- (see --help)")
    if min(a.warmup, a.profile_steps) < 0 or a.steps < 2:
        p.error("--warmup and --profile_steps must be >= 0, --steps >= 2")
    return a, job


def run_job(a, job: list[str]) -> dict:
    import torch
    import run_squad as R
    from bertkit.results.record import OptionalSteps
    from bertkit.train.runtime import runtime_record
    from transformers import TrainerCallback
    import logging
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.WARNING)
    sys.argv = ["run_squad.py", *job]
    model_args, data_args, training_args = R.parse_args()
    if not training_args.do_train:
        raise UserError("the job's flags need --do_train (this measures training steps)")
    total = a.warmup + a.steps + a.profile_steps
    training_args = dataclasses.replace(training_args, max_steps=total, save_strategy="no", do_eval=False,
                                        eval_strategy="no", load_best_model_at_end=False)
    r = R.setup(model_args, data_args, training_args, OptionalSteps(logging.getLogger("train_profile")))
    trainer = r["trainer"]
    counting = Counting(trainer.data_collator, trainer.model.config)
    trainer.data_collator = counting  # a public attribute: get_train_dataloader reads it
    marks, table = {}, {}

    class Clock(TrainerCallback):
        def on_step_begin(self, args, state, control, **kw):
            if state.global_step == a.warmup + a.steps and a.profile_steps:
                self.prof = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU])
                self.prof.__enter__()
                marks["profile_start"] = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            marks[state.global_step] = time.perf_counter()
            if state.global_step == total and a.profile_steps:
                self.prof.__exit__(None, None, None)
                wall = time.perf_counter() - marks["profile_start"]
                table.update(kinds=profile_table(self.prof, wall), top_ops=top_ops(self.prof, wall))

    t0 = time.perf_counter()
    marks[0] = t0
    trainer.add_callback(Clock())
    trainer.train()
    first, last = a.warmup, a.warmup + a.steps
    seconds = marks[last] - marks[first]
    timed = counting.batches[first:last]  # one collated batch per step (no accumulation), in step order
    if len(counting.batches) < total or training_args.gradient_accumulation_steps != 1:
        raise UserError("this benchmark counts one batch per step: run it without --gradient_accumulation_steps")
    real, padded, flops = (sum(b[k] for b in timed) for k in ("real", "padded", "flops"))
    return {"runtime": runtime_record(model_args, r["training_args"], trainer.model),
            "model": r["model_info"], "data": R.S.data_record(r["data_prov"], data_args),
            "warmup_seconds": round(marks[first] - t0, 2), "timed_steps": a.steps, "timed_seconds": round(seconds, 3),
            "windows_per_second": round(a.steps * training_args.per_device_train_batch_size / seconds, 3),
            "real_tokens_per_second": round(real / seconds, 1), "padding_fraction": round(1 - real / padded, 4),
            "mean_real_length": round(real / (a.steps * training_args.per_device_train_batch_size), 1),
            "achieved_flops": round(flops / seconds), "profile": table or None,
            "profile_steps": a.profile_steps, "threads": threads_and_allocator(),
            # levers that leave the arithmetic alone (compile, threads, the optimizer's kernel) must leave this alone
            "loss_log": [{"step": h["step"], "loss": h["loss"]} for h in trainer.state.log_history if "loss" in h]}


THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OMP_PROC_BIND", "OMP_PLACES", "GOMP_CPU_AFFINITY",
               "KMP_AFFINITY", "KMP_BLOCKTIME", "LD_PRELOAD", "MALLOC_CONF")


def threads_and_allocator() -> dict:
    """The thread and allocator settings this run had: the environment variables that set them, torch's threads,
    and which malloc is loaded (jemalloc/tcmalloc only through LD_PRELOAD) or could be (found on this OS)."""
    import ctypes.util
    import torch
    maps = Path("/proc/self/maps").read_text() if Path("/proc/self/maps").exists() else ""
    loaded = next((n for n in ("jemalloc", "tcmalloc") if f"lib{n}" in maps), "the C library's malloc")
    return {"env": {v: os.environ[v] for v in THREAD_VARS if v in os.environ},
            "torch_threads": torch.get_num_threads(), "torch_interop_threads": torch.get_num_interop_threads(),
            "malloc": loaded, "found_on_this_os": [n for n in ("jemalloc", "tcmalloc") if ctypes.util.find_library(n)]}


def main(argv=None):
    a, job = parse_args(argv)
    prov = provenance()
    stamp = datetime.datetime.now().strftime("%Y%m%d_%H%M%S")
    out = Path(a.output or REPO / "results" / "benchmarks" / f"train_profile_{stamp}.json")
    if out.exists():  # before any work
        raise UserError(f"{out} exists; pass another --output (results are never overwritten)")
    pk = peaks(a.peak_seconds)
    result = {"task": "benchmark: a training step's time by kind, and the CPU roofline", "label": a.label,
              "command": prov.pop("command"), "peaks": pk}
    if not a.peak_only:
        res = run_job(a, job)
        peak = pk.get("bf16_flops") if res["runtime"]["precision"] == "bf16" else pk["fp32_flops"]
        res["share_of_matmul_peak"] = round(res["achieved_flops"] / peak, 4) if peak else None
        result.update(model=res.pop("model"), data=res.pop("data"), results=res)
        print(f"{a.label or 'training'}: {res['windows_per_second']} windows/s, {res['real_tokens_per_second']} real "
              f"tokens/s, {res['achieved_flops'] / 1e9:.1f} GFLOP/s = {res['share_of_matmul_peak']:.1%} of this "
              f"machine's {res['runtime']['precision']} matmul peak ({peak / 1e9:.0f} GFLOP/s)")
        for k, v in (res["profile"] or {}).get("kinds", {}).items():
            print(f"  {k:>24}: {v['share']:6.1%}  {v['seconds']:.2f} s")
        for r in (res["profile"] or {}).get("top_ops", []):
            print(f"  {r['share']:6.1%} {r['calls']:6d} calls  {r['op']} ({r['kind']})")
    print("matmul peak: " + ", ".join(f"{k.split('_')[0]} {v / 1e9:.0f} GFLOP/s" for k, v in pk.items()
                                      if k.endswith("_flops")) + f" on {pk['threads']} threads")
    write_json_atomic(out, {**result, **prov})
    print(f"wrote {out}")


if __name__ == "__main__":
    exit_on_user_error(main)
