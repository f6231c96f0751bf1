"""Where one GAN training step's time goes: the real phase-3 loop (throughput.py's ``measure``),
with every ATen operator it runs timed where it is dispatched, per precision.

    python benchmarks/step_profile.py [--steps 32] [--batch-size 32] [--json out.json]

Each operator's wall time is taken around its kernel by a ``TorchDispatchMode`` (below autograd,
so the backward pass's operators are timed too), and put in one of a few groups: convolutions
(forward and backward), matrix products (the linear layers), "cast" (every copy: under bf16
autocast mostly its casts of weights and activations, in fp32 memory-layout copies), the
optimiser (fused Adam and the foreach ops of gradient clipping and the EMA), and everything else
(element-wise ops, pooling, indexing, allocation). The step's wall time without the timer is
measured beside it, so the operators' sum can be checked against it: what is missing is Python,
autograd and the timer's own cost.

Why not torch.profiler: on a 2-core AMD EPYC (Zen 5) on 2026-12-02 it doubled the bf16 step (70
images/s under it, 134 without) and charged the extra time to the small element-wise operators
(leaky-ReLU backward 10.7 ms a step under the profiler, 2.5 ms timed here), so its shares said
more about the profiler than about the step.

A step that is mostly "everything else" is bound by per-operator overhead and memory traffic, not
by arithmetic, and a faster convolution kernel (bf16) cannot speed it up much.
"""

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from helpers.config import preset
from helpers.data.synth import write_dataset
from helpers.training.precision import cpu_has_native_bf16
from machine import machine_facts
from throughput import measure

GROUPS = {
    "convolution": ("convolution", "convolution_backward"),
    "matrix_product": ("mm", "addmm", "bmm", "baddbmm"),
    "cast": ("_to_copy", "copy_", "clone"),
    "optimiser": ("_fused_adam_", "_foreach_norm", "_foreach_mul_", "_foreach_lerp_", "_foreach_add_"),
}


def group_of(operator: str) -> str:
    """The group of an ATen operator named as "convolution_backward" (no "aten." or overload)."""
    for group, names in GROUPS.items():
        if operator in names:
            return group
    return "other"


def layout(tensor) -> str:
    """"C" channels-last, "N" NCHW, "o" other strides; "" for anything that is not a 4-d tensor."""
    if not isinstance(tensor, torch.Tensor) or tensor.dim() != 4:
        return ""
    if tensor.is_contiguous():
        return "N"
    return "C" if tensor.is_contiguous(memory_format=torch.channels_last) else "o"


class OperatorTimer(TorchDispatchMode):
    """Wall seconds and calls per (operator, input shapes, input layouts)."""

    def __init__(self):
        super().__init__()
        self.seconds, self.calls = Counter(), Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        started = time.perf_counter()
        out = func(*args, **(kwargs or {}))
        elapsed = time.perf_counter() - started
        tensors = [arg for arg in args if isinstance(arg, torch.Tensor)]
        key = (func.overloadpacket.__name__, str([list(t.shape) for t in tensors][:3]), "".join(layout(t) for t in tensors))
        self.seconds[key] += elapsed
        self.calls[key] += 1
        return out


def profile_step(steps: int, batch_size: int, precision: str, folder: Path) -> dict:
    measure(64, 8, batch_size, "quick", precision, folder)  # warm-up: oneDNN picks its kernels
    untimed = measure(64, steps, batch_size, "quick", precision, folder)
    timer = OperatorTimer()
    with timer:
        timed = measure(64, steps, batch_size, "quick", precision, folder)
    by_group, calls_by_group, by_operator, calls_by_operator = Counter(), Counter(), Counter(), Counter()
    for key, seconds in timer.seconds.items():
        by_group[group_of(key[0])] += seconds
        calls_by_group[group_of(key[0])] += timer.calls[key]
        by_operator[key[0]] += seconds
        calls_by_operator[key[0]] += timer.calls[key]
    total = sum(by_group.values())
    wall_ms = 1e3 * batch_size / untimed["images_per_second"]

    def ms(seconds):
        return round(1e3 * seconds / steps, 2)

    return {"precision": precision, "batch_size": batch_size, "steps": steps,
            "images_per_second": untimed["images_per_second"],
            "images_per_second_with_timer": timed["images_per_second"],
            "step_ms_without_timer": round(wall_ms, 1),
            "operators_ms_per_step": ms(total),
            "share": {group: round(seconds / total, 3) for group, seconds in sorted(by_group.items())},
            "ms_per_step_by_group": {group: ms(seconds) for group, seconds in sorted(by_group.items())},
            "operator_calls_per_step": {group: round(count / steps) for group, count in sorted(calls_by_group.items())},
            "top_operators": [{"name": name, "ms_per_step": ms(seconds), "calls_per_step": round(calls_by_operator[name] / steps, 1)}
                              for name, seconds in by_operator.most_common(12)],
            "top_calls": [{"name": key[0], "input_shapes": key[1], "layouts": key[2], "ms_per_step": ms(seconds),
                           "calls_per_step": round(timer.calls[key] / steps, 2)}
                          for key, seconds in timer.seconds.most_common(16)]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=preset("quick", "gan").batch_size)
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args()
    precisions = ["fp32", "bf16"] if cpu_has_native_bf16() else ["fp32"]
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        write_dataset(folder, n=256, size=64, seed=0, progress=False)
        results = [profile_step(args.steps, args.batch_size, precision, folder) for precision in precisions]
    out = {"benchmark": "gan_step_profile_64px", "preset": "quick", "method": "ATen operators timed at dispatch",
           "machine": machine_facts(), "results": results}
    print(json.dumps(out, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
