"""Mixed precision: bf16 autocast where the hardware runs it natively, fp32 elsewhere.

On CUDA, bf16 autocast is standard. On a CPU it pays only with native bf16 instructions
(AVX512-BF16 or AMX; Intel Cooper Lake and later, AMD Zen 4 and later): there oneDNN runs
convolutions and matrix products in bf16 about 2.5-6x faster than fp32. Without them bf16 is
emulated and slower, so the CPU default is fp32. ``VA_CPU_BF16=0`` or ``1`` overrides the
detection.
"""

import os
from functools import lru_cache

import torch


@lru_cache(maxsize=1)
def cpu_has_native_bf16() -> bool:
    """True on CPUs whose flags (Linux /proc/cpuinfo) include avx512_bf16 or amx_bf16."""
    override = os.environ.get("VA_CPU_BF16")
    if override in ("0", "1"):
        return override == "1"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool({"avx512_bf16", "amx_bf16"} & flags)
    except OSError:
        pass
    return False


def uses_bf16(device: torch.device, setting: str = "auto") -> bool:
    """``setting``: "auto" (CUDA, or a CPU with native bf16), "bf16" or "fp32"."""
    if setting not in ("auto", "bf16", "fp32"):
        raise ValueError(f"precision must be 'auto', 'bf16' or 'fp32', not {setting!r}")
    if setting != "auto":
        return setting == "bf16"
    return device.type == "cuda" or (device.type == "cpu" and cpu_has_native_bf16())


def autocast(device: torch.device, setting: str = "auto"):
    """The autocast context for a training step on ``device``."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=uses_bf16(device, setting))
