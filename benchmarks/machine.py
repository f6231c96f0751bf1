"""The machine a figure was measured on: CPU model, threads, and its measured matmul peak.

CPUs of one cloud family differ about 3x here, so every benchmark prints these next to its
figures; a utilisation ratio (model FLOP/s over the measured peak) compares across machines.
"""

import platform
import time

import torch


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def matmul_peak_gflops(dtype=torch.float32, size: int = 2048, repeats: int = 10) -> float:
    """Measured GFLOP/s of a square matrix product on this CPU with torch's threads."""
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    for _ in range(2):
        a @ b
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(repeats):
            a @ b
        best = min(best, time.perf_counter() - started)
    return 2 * size ** 3 * repeats / best / 1e9


def machine_facts() -> dict:
    from helpers.training.precision import cpu_has_native_bf16

    return {"cpu": cpu_model(), "threads": torch.get_num_threads(), "native_bf16": cpu_has_native_bf16(),
            "matmul_fp32_gflops": round(matmul_peak_gflops(torch.float32)),
            "matmul_bf16_gflops": round(matmul_peak_gflops(torch.bfloat16)),
            "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None}


if __name__ == "__main__":
    import json

    print(json.dumps(machine_facts(), indent=2))
