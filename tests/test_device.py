"""Device selection without a GPU: CUDA is faked with monkeypatch, the choice is what is tested."""

from __future__ import annotations

import pytest
import torch

from repro.errors import ReproError
from repro.models.device import DEVICE_ENV, select_device


@pytest.fixture()
def no_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv(DEVICE_ENV, raising=False)
    return monkeypatch


def _cuda(monkeypatch: pytest.MonkeyPatch, available: bool, count: int = 1) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: available)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count if available else 0)


@pytest.mark.parametrize(("available", "expected"), [(True, "cuda"), (False, "cpu")])
def test_default_is_cuda_when_present(no_env: pytest.MonkeyPatch, available: bool, expected: str) -> None:
    _cuda(no_env, available)
    assert select_device() == torch.device(expected)
    assert select_device("auto") == torch.device(expected)


def test_argument_then_environment_override(no_env: pytest.MonkeyPatch) -> None:
    _cuda(no_env, True, count=2)
    assert select_device("cpu") == torch.device("cpu")
    assert select_device("cuda:1") == torch.device("cuda", 1)
    no_env.setenv(DEVICE_ENV, "cpu")
    assert select_device() == torch.device("cpu")  # the environment beats the default
    assert select_device("cuda") == torch.device("cuda")  # an argument beats the environment


def test_impossible_devices_are_one_line_errors(no_env: pytest.MonkeyPatch) -> None:
    _cuda(no_env, False)
    with pytest.raises(ReproError, match="CUDA is not available on this machine"):
        select_device("cuda")
    no_env.setenv(DEVICE_ENV, "cuda:0")
    with pytest.raises(ReproError, match="'cuda:0' asked for, but CUDA is not available"):
        select_device()
    with pytest.raises(ReproError, match="unknown device 'gpu0'"):
        select_device("gpu0")
    _cuda(no_env, True, count=1)
    with pytest.raises(ReproError, match="has 1 CUDA devices"):
        select_device("cuda:3")


def test_training_and_encoding_choose_through_select_device(no_env: pytest.MonkeyPatch, tmp_path) -> None:
    # Asking for CUDA where there is none stops the trainer with the device error, before any model loads.
    import json

    from repro.training.trainer import TrainConfig, train

    _cuda(no_env, False)
    corpus = tmp_path / "corpus.jsonl"
    rows = [
        {"id": f"{i}", "language": lang, "query": f"q{i} {lang}", "passage": f"p{i} {lang}", "group": f"g{i}"}
        for i in range(40)
        for lang in ("en", "de")
    ]
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = TrainConfig(
        model="./no-such-model", corpus=str(corpus), steps=1, batch_size=2, holdout_languages=[], val_pairs=2
    )
    no_env.setenv(DEVICE_ENV, "cuda")
    with pytest.raises(ReproError, match="CUDA is not available on this machine"):
        train(config, tmp_path / "run", progress=False)
    no_env.setenv(DEVICE_ENV, "cpu")
    with pytest.raises(ReproError, match="no-such-model"):  # past the device choice: the model is next
        train(config, tmp_path / "run2", progress=False)


def test_the_encoder_and_step_keys_follow_the_same_choice(no_env: pytest.MonkeyPatch) -> None:
    from repro.models.encoder import Encoder
    from repro.runner import sweep

    _cuda(no_env, False)
    assert Encoder("e5-small", precision="fp32").device == torch.device("cpu")
    no_env.setenv(DEVICE_ENV, "cuda")
    with pytest.raises(ReproError, match="CUDA is not available on this machine"):
        Encoder("e5-small")
    # A machine with CUDA that is told to compute on the CPU keys its steps with the CPU's precision.
    _cuda(no_env, True)
    no_env.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    assert sweep.resolved_precision("auto") == "bf16"
    no_env.setenv(DEVICE_ENV, "cpu")
    assert sweep.resolved_precision("fp32") == "fp32"
    assert sweep.resolved_precision("auto") == sweep.resolved_precision("auto", "cpu")


@pytest.mark.parametrize("native_bf16", [True, False])
def test_auto_precision_is_bf16_only_where_the_cpu_has_it(monkeypatch: pytest.MonkeyPatch, native_bf16: bool) -> None:
    import repro.models.precision as precision_mod

    monkeypatch.setattr(precision_mod, "cpu_supports_fast_bf16", lambda: native_bf16)
    cpu = torch.device("cpu")
    assert precision_mod.autocast_dtype("auto", cpu) == (torch.bfloat16 if native_bf16 else None)
    # An explicit choice is obeyed whatever the CPU.
    assert precision_mod.autocast_dtype("bf16", cpu) == torch.bfloat16
    assert precision_mod.autocast_dtype("fp32", cpu) is None
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    assert precision_mod.autocast_dtype("auto", torch.device("cuda")) == torch.bfloat16


@pytest.mark.parametrize(
    ("variable", "value", "capped"),
    [
        ("ONEDNN_MAX_CPU_ISA", "AVX2", True),
        ("ONEDNN_MAX_CPU_ISA", "avx512_core", True),
        ("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_BF16", False),
        ("ONEDNN_MAX_CPU_ISA", "ALL", False),
        ("ATEN_CPU_CAPABILITY", "avx2", True),
        ("ATEN_CPU_CAPABILITY", "avx512", False),
    ],
)
def test_an_isa_capped_below_bf16_makes_auto_fp32(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, capped: bool
) -> None:
    """bench/peak.py's AVX2 emulation: a cap below native bf16 must turn "auto" into fp32, as on AVX2 CPUs."""
    import repro.models.precision as precision_mod

    for name in ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY"):
        monkeypatch.delenv(name, raising=False)
    precision_mod.cpu_supports_fast_bf16.cache_clear()
    uncapped = precision_mod.cpu_supports_fast_bf16()
    monkeypatch.setenv(variable, value)
    precision_mod.cpu_supports_fast_bf16.cache_clear()
    try:
        assert precision_mod.isa_capped_below_bf16() is capped
        assert precision_mod.cpu_supports_fast_bf16() is (False if capped else uncapped)
        if capped:
            assert precision_mod.autocast_dtype("auto", torch.device("cpu")) is None
    finally:
        precision_mod.cpu_supports_fast_bf16.cache_clear()
