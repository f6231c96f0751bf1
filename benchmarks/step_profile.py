"""Where one GAN training step's time goes: the real phase-3 loop (throughput.py's ``measure``)
under torch.profiler, per precision, with each operator's self time put in one of a few groups.

    python benchmarks/step_profile.py [--steps 48] [--batch-size 16] [--json out.json]

Groups: convolutions (forward and backward), matrix products (the linear layers), "cast": every
copy (aten::copy_ and _to_copy; under bf16 autocast mostly its casts of weights and activations,
in fp32 memory-layout copies), the optimiser (Adam, gradient
clipping, EMA), and everything else (element-wise ops, pooling, indexing, allocation). The profiler
adds its own cost per operator, so the images/s here are lower than throughput.py's; the shares
are what to read. A step that is mostly "everything else" is bound by per-operator overhead and
memory traffic, not by arithmetic, and a faster convolution kernel (bf16) cannot speed it up much.
"""

import argparse
import json
import tempfile
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

from helpers.data.synth import write_dataset
from helpers.training.precision import cpu_has_native_bf16
from machine import machine_facts
from throughput import measure

GROUPS = {
    "convolution": ("aten::mkldnn_convolution", "aten::convolution_backward", "aten::_convolution", "aten::cudnn_convolution"),
    "matrix_product": ("aten::mm", "aten::addmm", "aten::bmm", "aten::matmul"),
    "cast": ("aten::copy_", "aten::_to_copy"),
    "optimiser": ("aten::_fused_adam_", "aten::_foreach_lerp_", "aten::_foreach_norm", "aten::_foreach_mul_",
                  "aten::linalg_vector_norm", "aten::lerp_"),
}


def group_of(name: str) -> str:
    for group, names in GROUPS.items():
        if name in names:
            return group
    return "other"


def profile_step(steps: int, batch_size: int, precision: str, folder: Path) -> dict:
    measure(64, 8, batch_size, "quick", precision, folder)  # warm-up: oneDNN picks its kernels
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        row = measure(64, steps, batch_size, "quick", precision, folder)
    totals, calls = {}, {}
    for event in profiler.key_averages():
        group = group_of(event.key)
        totals[group] = totals.get(group, 0.0) + event.self_cpu_time_total / 1e3  # ms
        calls[group] = calls.get(group, 0) + event.count
    all_ms = sum(totals.values())
    top = sorted(profiler.key_averages(), key=lambda e: -e.self_cpu_time_total)[:12]
    return {"precision": precision, "batch_size": batch_size, "steps": steps,
            "images_per_second_under_profiler": row["images_per_second_wall"],
            "ms_per_step": round(all_ms / steps, 2),
            "share": {group: round(ms / all_ms, 3) for group, ms in sorted(totals.items())},
            "ms_per_step_by_group": {group: round(ms / steps, 2) for group, ms in sorted(totals.items())},
            "operator_calls_per_step": {group: round(count / steps) for group, count in sorted(calls.items())},
            "top_operators": [{"name": e.key, "ms_per_step": round(e.self_cpu_time_total / 1e3 / steps, 2),
                               "calls_per_step": round(e.count / steps, 1)} for e in top]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args()
    precisions = ["fp32", "bf16"] if cpu_has_native_bf16() else ["fp32"]
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        write_dataset(folder, n=256, size=64, seed=0, progress=False)
        results = [profile_step(args.steps, args.batch_size, precision, folder) for precision in precisions]
    out = {"benchmark": "gan_step_profile_64px", "preset": "quick", "machine": machine_facts(), "results": results}
    print(json.dumps(out, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
