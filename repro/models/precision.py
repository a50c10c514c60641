"""The float precision of a forward pass: one rule for encoding (:class:`Encoder`) and for training.

``precision`` is what a user asks for ("auto", "fp32", "bf16", "fp16"); :func:`autocast_dtype`
turns it into the dtype that ``torch.autocast`` runs matrix products in on a given device (None:
plain fp32), and :func:`autocast` applies it. Sharing the rule means a fine-tuned model is
evaluated in the precision it was trained in. On an AVX512-BF16 EPYC (no AMX) bf16 measured 1.6x
faster than fp32 for encoding (bench/bench_encode.py) and for training (bench/bench_train.py).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import torch

from repro.errors import ReproError

Precision = Literal["auto", "fp32", "bf16", "fp16"]
PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16", "fp16")
_NAMES = {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}


@functools.lru_cache(maxsize=1)
def cpu_supports_fast_bf16() -> bool:
    """True if this CPU has native bf16 matrix instructions (AVX512-BF16, AMX, Arm BF16).

    Without them bf16 is emulated and runs several times *slower* than fp32 (measured ~9x on
    an AVX2-only EPYC), so "auto" must not pick it there. oneDNN's own check is too lenient:
    it also accepts plain AVX512, where bf16 is emulated. An instruction set capped below native
    bf16 by the environment (``ONEDNN_MAX_CPU_ISA``, ``ATEN_CPU_CAPABILITY``; see
    :func:`isa_capped_below_bf16`) counts as absent: the kernels cannot use what the CPU has.
    """
    if isa_capped_below_bf16():
        return False
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        cpuinfo = None
    if cpuinfo is not None:
        flags = set()
        for line in cpuinfo.splitlines():
            if line.startswith(("flags", "Features")):
                flags.update(line.split(":", 1)[-1].split())
        return bool(flags & {"avx512_bf16", "amx_bf16", "bf16"})
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


# oneDNN's ISA names (ONEDNN_MAX_CPU_ISA) below its first one with bf16 dot products.
_ONEDNN_BELOW_BF16 = frozenset({"SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI"})


def isa_capped_below_bf16() -> bool:
    """True if the environment caps torch's kernels below native bf16 instructions.

    ``ONEDNN_MAX_CPU_ISA`` caps the library torch runs CPU bf16 matrix products with, and
    ``ATEN_CPU_CAPABILITY=avx2`` (or ``default``) torch's own kernels; both are read when torch
    loads. With either set so, this process behaves as an AVX2-only CPU (bench/peak.py uses it to
    measure that case on a newer CPU), and "auto" must mean fp32 as it would there.
    """
    import os

    onednn = os.environ.get("ONEDNN_MAX_CPU_ISA", os.environ.get("DNNL_MAX_CPU_ISA", "")).strip().upper()
    aten = os.environ.get("ATEN_CPU_CAPABILITY", "").strip().lower()
    return onednn in _ONEDNN_BELOW_BF16 or aten in {"default", "avx2"}


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``precision`` on ``device``; None means plain fp32.

    "auto" is bf16 on a CPU with native bf16 instructions, bf16 (else fp16) on CUDA, and fp32
    otherwise: on a CPU without native bf16, bf16 is emulated and several times slower than fp32.

    Raises:
        ReproError: an unknown precision, or fp16 on a device other than CUDA.
    """
    cuda = device.type == "cuda"
    if precision == "fp32":
        return None
    if precision == "fp16":
        if not cuda:
            raise ReproError("precision fp16 needs a CUDA device; use bf16 or fp32 on CPU")
        return torch.float16
    if precision == "bf16":
        return torch.bfloat16
    if precision != "auto":
        raise ReproError(f"unknown precision '{precision}'; use one of {', '.join(PRECISIONS)}")
    if cuda:
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if cpu_supports_fast_bf16() else None


def precision_name(dtype: torch.dtype | None) -> str:
    """The precision an autocast dtype stands for: "fp32" (None), "bf16" or "fp16"."""
    return _NAMES[dtype]


@contextlib.contextmanager
def autocast(device: torch.device, dtype: torch.dtype | None) -> Iterator[None]:
    """``torch.autocast`` to ``dtype`` on ``device``'s type; nothing at all when ``dtype`` is None."""
    if dtype is None:
        yield
    else:
        with torch.autocast(device_type=device.type, dtype=dtype):
            yield
