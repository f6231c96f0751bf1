"""The machine a figure was measured on: CPU model, threads, and its measured peak FLOP/s.

CPUs of one cloud family differ about 3x here, so every benchmark prints these next to its
figures; a utilisation ratio (model FLOP/s over the measured peak) compares across machines.

The peak is the faster of two compute-bound kernels, a square matrix product (MKL) and a wide
3x3 convolution (oneDNN, the library that runs the models' convolutions). One alone can
mislead: on a 2-core AMD EPYC (Zen 5) MKL's fp32 matmul ran at 220 GFLOP/s while oneDNN's
3x3 convolution ran at 535, so a training step "used 109% of the peak" measured by matmul.

The bf16 peak is measured only on CPUs with native bf16 (and on CUDA machines): elsewhere torch
emulates bf16 on one thread, and a 2-core AMD EPYC (Zen 3, AVX2 only) spent over 15 minutes in
the 2048^3 bf16 product before this check existed. Its entries are then None.
"""

import platform
import time

import torch
import torch.nn.functional as F


def cpu_model(cpuinfo: str = "/proc/cpuinfo") -> str:
    """The CPU's model name with its family and model numbers, which tell CPUs of one name apart (a KVM guest's
    "AMD EPYC" is a Zen 3 at family 25 model 1, a Zen 5 at family 26): "AMD EPYC (family 25, model 1)"."""
    fields = {}
    try:
        with open(cpuinfo) as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if not key.strip():
                    break  # the first processor is enough
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    name = fields.get("model name") or platform.processor() or platform.machine()
    if "cpu family" in fields and "model" in fields:
        return f"{name} (family {fields['cpu family']}, model {fields['model']})"
    return name


def matmul_peak_gflops(dtype=torch.float32, size: int = 2048, repeats: int = 10) -> float:
    """Measured GFLOP/s of a square matrix product on this CPU with torch's threads."""
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    return _best_gflops(lambda: a @ b, 2 * size ** 3, repeats)


def conv_peak_gflops(dtype=torch.float32, repeats: int = 10) -> float:
    """Measured GFLOP/s of a wide 3x3 convolution (256 -> 256 channels, 32x32, batch 32, channels-last)."""
    x = torch.randn(32, 256, 32, 32, dtype=dtype).contiguous(memory_format=torch.channels_last)
    w = torch.randn(256, 256, 3, 3, dtype=dtype).contiguous(memory_format=torch.channels_last)
    return _best_gflops(lambda: F.conv2d(x, w, padding=1), 2 * 32 * 256 * 256 * 9 * 32 * 32, repeats)


def _best_gflops(kernel, flops: float, repeats: int) -> float:
    for _ in range(2):
        kernel()
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(repeats):
            kernel()
        best = min(best, time.perf_counter() - started)
    return flops * repeats / best / 1e9


def machine_facts() -> dict:
    from helpers.training.precision import cpu_has_native_bf16

    facts = {"cpu": cpu_model(), "threads": torch.get_num_threads(), "native_bf16": cpu_has_native_bf16()}
    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        if name == "bf16" and not (facts["native_bf16"] or torch.cuda.is_available()):
            facts.update({f"{kind}_{name}_gflops": None for kind in ("matmul", "conv3x3", "peak")})
            continue
        facts[f"matmul_{name}_gflops"] = round(matmul_peak_gflops(dtype))
        facts[f"conv3x3_{name}_gflops"] = round(conv_peak_gflops(dtype))
        facts[f"peak_{name}_gflops"] = max(facts[f"matmul_{name}_gflops"], facts[f"conv3x3_{name}_gflops"])
    facts["cuda"] = torch.cuda.get_device_name() if torch.cuda.is_available() else None
    return facts


if __name__ == "__main__":
    import json

    print(json.dumps(machine_facts(), indent=2))
