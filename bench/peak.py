"""What the hardware can do, measured in the same run as a benchmark: CPU flags, fp32 GEMM peak,
and the FLOP count of a transformer pass (2 x non-embedding parameters per token).

``bench_encode.py`` and ``bench_train.py`` report achieved GFLOP/s against :func:`gemm_peak` taken
on the same threads a moment before, so a ratio is meaningful even on a machine whose clock or
load is unknown (on a shared machine, both fall together).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

# The flags that decide which kernels run: AVX2/FMA (fp32 everywhere), AVX-512, native bf16.
FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16")


# What ``--isa`` caps each library to, read when torch loads: ATen's own vector kernels, MKL (fp32
# GEMMs) and oneDNN (bf16 GEMMs). Capped to AVX2, this CPU runs the code an AVX2-only CPU runs, on
# its own caches and clock, so ratios to a peak measured under the same cap stand for that case.
ISA_CAPS: dict[str, dict[str, str]] = {
    "native": {},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
}


def apply_isa_cap(argv: list[str] | None = None) -> str:
    """Honour ``--isa NAME`` in ``argv`` (default ``sys.argv``): re-execute with its caps set.

    Must run before torch is imported, because the libraries read the caps when they load.
    Returns the cap in force ("native" without ``--isa``).
    """
    argv = sys.argv if argv is None else argv
    name = "native"
    for i, arg in enumerate(argv):
        if arg == "--isa" and i + 1 < len(argv):
            name = argv[i + 1]
        elif arg.startswith("--isa="):
            name = arg.split("=", 1)[1]
    if name not in ISA_CAPS:
        sys.exit(f"--isa {name}: expected one of {', '.join(ISA_CAPS)}")
    caps = ISA_CAPS[name]
    if any(os.environ.get(k) != v for k, v in caps.items()):
        if "torch" in sys.modules:
            sys.exit("--isa must be applied before torch is imported")
        os.environ.update(caps)
        os.execv(sys.executable, [sys.executable, *argv])
    return name


def isa_line(name: str) -> str:
    """One line saying which instruction sets the kernels may use (caps, and ATen's dispatch)."""
    import torch

    aten = torch.backends.cpu.get_cpu_capability()
    if name == "native":
        return f"ISA: native (ATen kernels {aten})"
    caps = ", ".join(f"{k}={v}" for k, v in ISA_CAPS[name].items())
    return f"ISA: capped to {name} ({caps}; ATen kernels {aten}): this CPU runs as an {name}-only one"


def cpu_flags() -> dict[str, bool]:
    """Which of :data:`FLAGS` this CPU reports in /proc/cpuinfo (all False where it cannot be read)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    present: set[str] = set()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            present.update(line.split(":", 1)[-1].split())
    return {flag: flag in present for flag in FLAGS}


def cpu_name() -> str:
    """The CPU's model name (or the platform's processor string)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


def gemm_peak(n: int = 2048, repeats: int = 5, min_seconds: float = 0.5) -> dict[str, Any]:
    """fp32 GEMM throughput: the best of ``repeats`` timings of ``torch.matmul`` on two n x n matrices.

    Each timing repeats the product until it took ``min_seconds``; FLOPs are 2 n^3 per product. Runs
    on torch's current intra-op threads, the ones the benchmark then uses.
    """
    import torch

    a = torch.randn(n, n, dtype=torch.float32)
    b = torch.randn(n, n, dtype=torch.float32)
    out = torch.empty(n, n, dtype=torch.float32)
    torch.matmul(a, b, out=out)  # warm-up: thread pool, allocator, kernel selection
    best = 0.0
    for _ in range(repeats):
        count, start = 0, time.perf_counter()
        while True:
            torch.matmul(a, b, out=out)
            count += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                break
        best = max(best, 2 * n**3 * count / elapsed / 1e9)
    return {"gflops": best, "n": n, "repeats": repeats, "threads": torch.get_num_threads()}


def non_embedding_parameters(model: Any) -> int:
    """Parameters outside the embedding tables: what each token multiplies through (2 FLOPs each)."""
    embedding = {id(p) for m in model.modules() if type(m).__name__ == "Embedding" for p in m.parameters()}
    return sum(p.numel() for p in model.parameters() if id(p) not in embedding)


def gflops(parameters: int, tokens: float, seconds: float, passes: float = 1.0) -> float:
    """Achieved GFLOP/s: ``passes`` x 2 x parameters x tokens / seconds (training: ~3 passes)."""
    return passes * 2 * parameters * tokens / seconds / 1e9
