"""Keep freed memory in the process, so a training step does not page-fault on fresh memory.

glibc's malloc hands large blocks (above 128 KiB at first, never above 32 MiB as it adapts) straight
from the operating system with mmap and unmaps them when they are freed, and gives the free top of
its heap back too (trimming). A training step frees and reallocates the same feature maps every
step, so every step first-touches a few thousand fresh pages, and each page fault costs several
microseconds in a virtual machine. On a 2-core AMD EPYC (Zen 5, KVM) the 64 px GAN step took 2,000-2,800
minor page faults, and a discriminator forward pass ran in 15 ms instead of 35-55 ms once they were
gone; the whole fp32 step gained about 11% (benchmarks/README.md). PyTorch's own CPU tuning guide fixes this with
jemalloc or tcmalloc; ``mallopt`` does the same with the C library the process already has.

The setting lasts for the process: a notebook kernel that has trained keeps its peak memory until
it restarts, as a GPU's caching allocator does.
"""

import ctypes
import sys

M_TRIM_THRESHOLD = -1  # glibc's malloc.h: free memory at the heap's top kept before giving it back
M_MMAP_MAX = -4  # the most blocks served by mmap; 0 serves every block from the heap

_kept = False


def keep_freed_memory() -> bool:
    """Ask glibc to serve every block from its heap and keep what is freed; True if it agreed.

    A no-op returning False where there is no glibc (macOS, Windows, musl)."""
    global _kept
    if _kept:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process already runs on
    except (OSError, AttributeError):
        return False
    _kept = mallopt(M_MMAP_MAX, 0) == 1 and mallopt(M_TRIM_THRESHOLD, 2**31 - 1) == 1
    return _kept
