"""Training throughput: repro's trainer vs sentence-transformers' MultipleNegativesRankingLoss.

Usage::

    python bench/bench_train.py [--batch-size 32] [--max-length 96] [--steps 10] [--warmup 2] [--repeats 2]
                                [--sweep 16,32,64] [--sweep-steps 6] [--bf16-steps 3]
                                [--train-embeddings] [--threads N] [--isa native|avx2] [--quick] [--json PATH]

Both sides train the embedded multilingual-e5-small on *the same batches*: the trainer's own
hybrid sampler (XNLI, alpha 0.5, seed 0) is rebuilt here and its first batches are given to
sentence-transformers, with the same prefixes ("query: " / "passage: " as ST prompts), batch
size, max_seq_length, temperature (MNRL scale 20 = 1 / 0.05), learning rate, weight decay
groups, fused AdamW (the default optimizer of ST's Trainer) and frozen (or, with
``--train-embeddings``, trainable) word embeddings on both.

- ours: ``repro.training.train`` itself, timed between its ``on_step`` callbacks (so sampling,
  tokenisation, forward, backward and the optimizer step all count), at precision "auto" and,
  for fairness, fp32 (and bf16 when auto is not bf16: on a CPU without native bf16 it is
  emulated, hence only ``--bf16-steps`` steps), and fp32 with ``packed: true`` (linear layers on
  real tokens only, :mod:`repro.models.packed`), alternating with the other two;
- ST: the step its Trainer runs (``model.preprocess`` per column as its data collator does,
  ``MultipleNegativesRankingLoss(features)``, backward, optimizer step), in fp32, its default,
  without the Trainer's bookkeeping, which would only slow it down.

Each system runs in its own subprocess, so that its peak memory is its own; ours(auto), ours(packed)
and ST alternate for ``--repeats`` rounds and each keeps its best round (other load on the machine then
biases neither side). *Peak RSS* is ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` of that
subprocess at the end of its timed steps (model, corpus, optimizer state, activations and
Python, loading included; for ours, taken before train() writes the final model folder).

A "check" subprocess first verifies that both compute the same loss on the first batch (fp32,
eval mode, no dropout) and counts the tokens each pushes through the model per step (ours:
texts sorted by length, cut into the forward passes that minimise padding plus a fixed cost per
pass; ST: one forward per column padded to its longest text, or both merged and padded to the
longest, as its loss decides; packed: the real tokens). Then a sweep of our trainer over batch sizes
picks the CPU default (highest pairs/s).

Each system's achieved GFLOP/s counts 3 x 2 x non-embedding parameters x real tokens per second
(forward plus a backward of about twice its cost), against the fp32 GEMM peak (``torch.matmul`` of
two large square matrices) measured in a subprocess on the same threads before and after the runs
(the best of the two); the CPU flags that decide the kernels are printed with it.

``--isa avx2`` caps ATen, MKL and oneDNN to AVX2 in every subprocess (bench/peak.py): a newer CPU
then runs what an AVX2-only CPU runs, the GEMM peak included, and "auto" trains in fp32 as there.

The machine may be shared: the load average before and after is printed; compare ratios from
one run only. ``--threads`` sets torch's intra-op threads in every subprocess. ``--quick`` runs
every phase at a tiny size (batch 4, 2 timed steps, no sweep) to check the script end to end; its
timings mean nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from peak import ISA_CAPS  # torch-free: the --isa caps must be read before torch loads

SEED, ALPHA, LR, WEIGHT_DECAY, TEMPERATURE = 0, 0.5, 3e-5, 0.01, 0.05


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def bench_batches(batch_size: int, n: int) -> list[tuple[list[str], list[str]]]:
    """The first ``n`` batches (queries, passages; no prefixes) our trainer draws with this config."""
    from repro.training.corpus import split_by_group, xnli_corpus
    from repro.training.sampler import HybridBatchSampler
    from repro.training.trainer import TrainConfig

    config = TrainConfig(batch_size=batch_size, seed=SEED, alpha=ALPHA)
    train_set, _ = split_by_group(xnli_corpus(), config.val_fraction, config.seed, config.holdout_languages)
    sampler = iter(HybridBatchSampler(train_set, train_set.languages, batch_size, ALPHA, SEED))
    return [train_set.batch_texts(next(sampler)) for _ in range(n)]


def phase_ours(
    args: argparse.Namespace, precision: str, batch_size: int, steps: int, warmup: int, packed: bool = False
) -> dict[str, Any]:
    """Run our trainer for warmup + steps (+1, whose step carries the final evaluation) and time the middle."""
    from repro.training.trainer import TrainConfig, train

    stamps: dict[int, float] = {}
    rss: list[float] = []

    def on_step(step: int, loss: float, model: Any) -> None:
        stamps[step] = time.perf_counter()
        if step == warmup + steps:
            rss.append(peak_rss_mb())  # before train() writes the model (serialising it costs memory too)

    config = TrainConfig(
        batch_size=batch_size,
        max_length=args.max_length,
        precision=precision,
        steps=warmup + steps + 1,
        seed=SEED,
        alpha=ALPHA,
        lr=LR,
        weight_decay=WEIGHT_DECAY,
        temperature=TEMPERATURE,
        freeze_embeddings=not args.train_embeddings,
        eval_every=10**6,
        val_pairs=2,
        checkpoint_every=0,
        device="cpu",
        packed=packed,
    )
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        summary = train(config, Path(tmp) / "run", progress=False, on_step=on_step)
    seconds = stamps[warmup + steps] - stamps[warmup]
    return {
        "pairs_per_s": batch_size * steps / seconds,
        "seconds_per_step": seconds / steps,
        "precision": summary["precision"],
        "peak_rss_mb": rss[0],
    }


def build_st(args: argparse.Namespace):
    from sentence_transformers import SentenceTransformer

    try:
        from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.models import Normalize, Pooling, Transformer
    from repro.models.registry import resolve_model

    path = resolve_model("e5-small")
    try:
        transformer = Transformer(path, max_seq_length=args.max_length, model_kwargs={"add_pooling_layer": False})
    except TypeError:  # older releases call it model_args
        transformer = Transformer(path, max_seq_length=args.max_length, model_args={"add_pooling_layer": False})
    dim = (
        transformer.get_embedding_dimension()
        if hasattr(transformer, "get_embedding_dimension")
        else transformer.get_word_embedding_dimension()
    )
    st = SentenceTransformer(modules=[transformer, Pooling(dim, "mean"), Normalize()], device="cpu")
    if not args.train_embeddings:
        transformer.auto_model.get_input_embeddings().weight.requires_grad_(False)
    return st


def st_features(st, texts: list[str], prompt: str):
    """What ST's data collator hands the loss for one column."""
    if hasattr(st, "preprocess"):
        return st.preprocess(texts, prompt=prompt)
    return st.tokenize([prompt + t for t in texts])


def phase_st(args: argparse.Namespace, steps: int, warmup: int) -> dict[str, Any]:
    from sentence_transformers.losses import MultipleNegativesRankingLoss

    from repro.training.optim import make_optimizer

    st = build_st(args)
    loss_fn = MultipleNegativesRankingLoss(st, scale=1 / TEMPERATURE)
    # Same parameter groups (no decay on biases / LayerNorm, as ST's Trainer) and fused AdamW.
    optimizer = make_optimizer(st, LR, WEIGHT_DECAY)
    st.train()
    stamps = []
    for queries, passages in bench_batches(args.batch_size, warmup + steps):
        features = [st_features(st, queries, "query: "), st_features(st, passages, "passage: ")]
        loss = loss_fn(features, None)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        stamps.append(time.perf_counter())
    seconds = stamps[-1] - stamps[warmup - 1]
    return {"pairs_per_s": args.batch_size * steps / seconds, "seconds_per_step": seconds / steps, "precision": "fp32"}


def phase_check(args: argparse.Namespace) -> dict[str, Any]:
    """Loss of both implementations on the first batch, fp32, eval mode (no dropout), same weights."""
    import torch
    from peak import non_embedding_parameters
    from sentence_transformers.losses import MultipleNegativesRankingLoss

    from repro.models.encoder import load_model
    from repro.models.registry import resolve_model
    from repro.training.forward import CPU_FORWARD_COST_TOKENS, embed_texts, forward_groups
    from repro.training.loss import InfoNCELoss

    queries, passages = bench_batches(args.batch_size, 1)[0]
    tokenizer, model = load_model("e5-small", resolve_model("e5-small"))
    parameters = non_embedding_parameters(model)
    model.eval()
    with torch.inference_mode():
        vectors = embed_texts(
            model,
            tokenizer,
            ["query: " + q for q in queries] + ["passage: " + p for p in passages],
            args.max_length,
            torch.device("cpu"),
            None,
            CPU_FORWARD_COST_TOKENS,
        )
        ours = InfoNCELoss(TEMPERATURE)(vectors[: len(queries)], vectors[len(queries) :]).item()
        st = build_st(args)
        st.eval()
        theirs = MultipleNegativesRankingLoss(st, scale=1 / TEMPERATURE)(
            [st_features(st, queries, "query: "), st_features(st, passages, "passage: ")], None
        ).item()
    # Tokens through the model per step over the timed batches: real, ours (sorted chunks), and ST
    # (its loss merges the columns into one forward padded to the longest text when they preprocess
    # alike, else one padded forward per column, e.g. when the prompts have different token counts).
    try:
        from sentence_transformers.base.losses.merged_forward import merge_feature_batches
    except ImportError:  # older releases: one forward per column
        merge_feature_batches = lambda features: None
    real = ours_padded = st_padded = 0
    st_merged = []
    for queries, passages in bench_batches(args.batch_size, args.warmup + args.steps)[args.warmup :]:
        texts = ["query: " + q for q in queries] + ["passage: " + p for p in passages]
        lengths = sorted(
            (len(ids) for ids in tokenizer(texts, truncation=True, max_length=args.max_length)["input_ids"]),
            reverse=True,
        )
        real += sum(lengths)
        columns = [st_features(st, queries, "query: "), st_features(st, passages, "passage: ")]
        merged = merge_feature_batches(columns)
        st_merged.append(merged is not None)
        st_padded += sum(f["input_ids"].numel() for f in ([merged] if merged is not None else columns))
        ours_padded += sum(
            lengths[start] * (stop - start) for start, stop in forward_groups(lengths, CPU_FORWARD_COST_TOKENS)
        )
    return {
        "ours_loss": ours,
        "st_loss": theirs,
        "abs_diff": abs(ours - theirs),
        "tokens_per_step": {
            name: value / args.steps for name, value in (("real", real), ("ours", ours_padded), ("st", st_padded))
        },
        "st_merged_forward": all(st_merged),
        "non_embedding_parameters": parameters,
    }


def run_phase(args: argparse.Namespace) -> None:
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    kind, _, rest = args.phase.partition(":")
    if kind == "check":
        result = phase_check(args)
    elif kind == "peak":
        from peak import gemm_peak

        result = gemm_peak(args.gemm_n, 1 if args.quick else 5, 0.05 if args.quick else 0.5)
    elif kind == "st":
        result = phase_st(args, args.steps, args.warmup)
    else:  # ours:<precision>:<batch size>:<steps>[:packed]
        precision, batch_size, steps, *packed = rest.split(":")
        warmup = args.warmup if int(steps) > 3 else 1
        result = phase_ours(args, precision, int(batch_size), int(steps), warmup, packed == ["packed"])
    result.setdefault("peak_rss_mb", peak_rss_mb())
    result["threads"] = torch.get_num_threads()
    print("RESULT " + json.dumps(result), flush=True)


def spawn(args: argparse.Namespace, phase: str) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--phase",
        phase,
        "--batch-size",
        str(args.batch_size),
        "--max-length",
        str(args.max_length),
        "--steps",
        str(args.steps),
        "--warmup",
        str(args.warmup),
        "--threads",
        str(args.threads),
        "--gemm-n",
        str(args.gemm_n),
    ]
    if args.train_embeddings:
        command.append("--train-embeddings")
    if args.quick:
        command.append("--quick-phase")
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "TQDM_DISABLE": "1"})
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        sys.exit(f"phase {phase} failed:\n{done.stderr[-3000:]}")
    result = json.loads(lines[-1][len("RESULT ") :])
    print(f"  {phase:<22} done in {time.perf_counter() - started:5.0f} s", file=sys.stderr, flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=96)
    parser.add_argument("--steps", type=int, default=10, help="timed steps per system")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    parser.add_argument("--repeats", type=int, default=2, help="alternating rounds of ours(auto) and ST; best kept")
    parser.add_argument("--sweep", default="16,32,64", help="batch sizes for our trainer (empty: no sweep)")
    parser.add_argument("--sweep-steps", type=int, default=6)
    parser.add_argument("--bf16-steps", type=int, default=3, help="timed steps of forced bf16 when auto is not bf16")
    parser.add_argument("--train-embeddings", action="store_true", help="train the word embeddings too (both systems)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads per subprocess (0: torch's default)")
    parser.add_argument("--gemm-n", type=int, default=2048, help="side of the square matrices of the GEMM peak")
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes: check that the script runs (timings mean nothing)"
    )
    parser.add_argument(
        "--isa",
        default="native",
        choices=list(ISA_CAPS),
        help="cap the instruction sets torch's kernels use (avx2: run this CPU as an AVX2-only one)",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--quick-phase", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.batch_size, args.max_length, args.steps, args.warmup, args.repeats = 4, 32, 2, 1, 1
        args.sweep, args.bf16_steps, args.gemm_n = "", 1, 256
    args.quick = args.quick or args.quick_phase
    if args.phase:
        run_phase(args)
        return
    from peak import apply_isa_cap, cpu_flags, cpu_name, gflops, isa_line

    apply_isa_cap()  # before torch loads; the phases' subprocesses inherit the caps
    import torch

    from repro.models.precision import cpu_supports_fast_bf16
    from repro.training.forward import CPU_FORWARD_COST_TOKENS

    load_before = os.getloadavg()
    print(
        f"batch {args.batch_size}, max_length {args.max_length}, {args.warmup} warm-up + {args.steps} timed steps, "
        f"{'trainable' if args.train_embeddings else 'frozen'} word embeddings, CPU native bf16: {cpu_supports_fast_bf16()}, "
        f"load average {load_before[0]:.2f}",
        flush=True,
    )
    flags = cpu_flags()
    print("CPU: " + cpu_name() + "; flags: " + ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in flags.items()))
    print(isa_line(args.isa))
    bs = args.batch_size
    peaks = [spawn(args, "peak")]
    results: dict[str, Any] = {"check": spawn(args, "check")}
    # Alternate the two systems and keep each one's best round: load from other processes then
    # biases neither side (the same rule as bench_encode.py).
    rounds: dict[str, list[dict[str, Any]]] = {"ours_auto": [], "ours_packed": [], "st": []}
    for _ in range(args.repeats):
        rounds["ours_auto"].append(spawn(args, f"ours:auto:{bs}:{args.steps}"))
        rounds["ours_packed"].append(spawn(args, f"ours:fp32:{bs}:{args.steps}:packed"))
        rounds["st"].append(spawn(args, "st"))
    for name, runs in rounds.items():
        results[name] = {
            **max(runs, key=lambda r: r["pairs_per_s"]),
            "rounds_pairs_per_s": [r["pairs_per_s"] for r in runs],
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        }
    auto = results["ours_auto"]["precision"]
    results["ours_fp32"] = results["ours_auto"] if auto == "fp32" else spawn(args, f"ours:fp32:{bs}:{args.steps}")
    results["ours_bf16"] = results["ours_auto"] if auto == "bf16" else spawn(args, f"ours:bf16:{bs}:{args.bf16_steps}")

    sweep: dict[int, dict[str, Any]] = {}
    for size in [int(s) for s in args.sweep.split(",") if s.strip()]:
        sweep[size] = results["ours_auto"] if size == bs else spawn(args, f"ours:auto:{size}:{args.sweep_steps}")
    peaks.append(spawn(args, "peak"))
    peak = max(p["gflops"] for p in peaks)
    load_after = os.getloadavg()
    parameters = results["check"]["non_embedding_parameters"]
    real_per_step = results["check"]["tokens_per_step"]["real"]
    for r in [results[k] for k in ("ours_auto", "ours_fp32", "ours_packed", "ours_bf16", "st")] + list(sweep.values()):
        # Real tokens per step scale with the batch size (the sweep's batches are cut from the same stream).
        per_step = real_per_step * r["pairs_per_s"] * r["seconds_per_step"] / bs
        r["gflops"] = gflops(parameters, per_step, r["seconds_per_step"], passes=3)
        r["fraction_of_fp32_peak"] = r["gflops"] / peak

    st_rate = results["st"]["pairs_per_s"]
    print(
        f"\nsame-loss check (batch 1, fp32, eval mode): ours {results['check']['ours_loss']:.6f}, "
        f"ST {results['check']['st_loss']:.6f}, |diff| {results['check']['abs_diff']:.1e}"
    )
    tokens = results["check"]["tokens_per_step"]
    print(
        f"tokens through the model per step: real {tokens['real']:.0f}, ours {tokens['ours']:.0f} (sorted by length, "
        f"cut into forwards at {CPU_FORWARD_COST_TOKENS} tokens' cost each), ST {tokens['st']:.0f} "
        f"({'one forward padded to the longest text' if results['check']['st_merged_forward'] else 'one padded forward per column'})"
    )
    print(
        f"fp32 GEMM peak ({args.gemm_n}x{args.gemm_n} matmul, {peaks[0]['threads']} threads): {peak:.1f} GFLOP/s "
        f"(before {peaks[0]['gflops']:.1f}, after {peaks[1]['gflops']:.1f}); {parameters / 1e6:.1f} M non-embedding "
        "parameters; GFLOP/s = 3 x 2 x parameters x real tokens/s"
    )
    print(
        f"{'system':<40}{'precision':>10}{'pairs/s':>9}{'s/step':>8}{'GFLOP/s':>9}{'% peak':>8}{'peak RSS MB':>13}{'vs ST':>7}"
    )
    rows = [
        ("repro trainer (precision auto)", results["ours_auto"]),
        ("repro trainer (fp32)", results["ours_fp32"]),
        ("repro trainer (fp32, packed: true)", results["ours_packed"]),
        ("repro trainer (bf16 forced)", results["ours_bf16"]),
        ("sentence-transformers MNRL", results["st"]),
    ]
    for name, r in rows:
        print(
            f"{name:<40}{r['precision']:>10}{r['pairs_per_s']:>9.2f}{r['seconds_per_step']:>8.2f}{r['gflops']:>9.1f}"
            f"{100 * r['fraction_of_fp32_peak']:>7.0f}%{r['peak_rss_mb']:>13.0f}{r['pairs_per_s'] / st_rate:>6.2f}x"
        )
    ratio = results["ours_auto"]["pairs_per_s"] / st_rate
    ratio_fp32 = results["ours_fp32"]["pairs_per_s"] / st_rate
    ratio_packed = results["ours_packed"]["pairs_per_s"] / st_rate
    print(
        f"ratio ours(auto={auto})/ST: {ratio:.2f}x; ours(fp32)/ST(fp32): {ratio_fp32:.2f}x; "
        f"ours(fp32, packed)/ST(fp32): {ratio_packed:.2f}x (target >= 2x); at "
        f"{100 * results['ours_fp32']['fraction_of_fp32_peak']:.0f}% (padded) and "
        f"{100 * results['ours_packed']['fraction_of_fp32_peak']:.0f}% (packed) of the fp32 GEMM peak"
        + ("; --quick: timings mean nothing" if args.quick else "")
    )
    best_size = None
    if sweep:
        print("\nbatch-size sweep, our trainer (precision auto):")
        for size, r in sweep.items():
            print(
                f"  batch {size:>3}: {r['pairs_per_s']:6.2f} pairs/s, {r['seconds_per_step']:6.2f} s/step, peak RSS {r['peak_rss_mb']:.0f} MB"
            )
        best_size = max(sweep, key=lambda size: sweep[size]["pairs_per_s"])
        print(f"fastest CPU batch size: {best_size}")
    print(
        f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}; torch threads {results['st']['threads']}"
    )

    if args.json:
        record = {
            "batch_size": bs,
            "max_length": args.max_length,
            "steps": args.steps,
            "warmup": args.warmup,
            "frozen_embeddings": not args.train_embeddings,
            "threads": results["st"]["threads"],
            "forward_cost_tokens_cpu": CPU_FORWARD_COST_TOKENS,
            "cpu": cpu_name(),
            "cpu_flags": flags,
            "isa": args.isa,
            "isa_caps": ISA_CAPS[args.isa],
            "cpu_fast_bf16": cpu_supports_fast_bf16(),
            "gemm_peak_gflops": peak,
            "gemm_peak_runs": peaks,
            "non_embedding_parameters": parameters,
            "quick": args.quick,
            "torch": torch.__version__,
            "load_average_before": load_before,
            "load_average_after": load_after,
            "peak_memory": "ru_maxrss of each system's own subprocess (MB), model loading included",
            **results,
            "sweep": sweep,
            "best_batch_size": best_size,
            "ratio_ours_over_st": ratio,
            "ratio_ours_fp32_over_st": ratio_fp32,
            "ratio_ours_packed_over_st": ratio_packed,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
