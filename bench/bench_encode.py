"""Encoding throughput: repro's Encoder vs sentence-transformers on the same converted model, and
both against the fp32 GEMM peak measured in the same run.

Usage::

    python bench/bench_encode.py [--n 512] [--batch-size 64] [--max-length 256] [--repeats 3]
                                 [--precision auto] [--threads N] [--isa native|avx2] [--quick] [--json PATH]

Both sides encode the same real English texts from the XQuAD-R mirror (half questions as
queries, half sentences as passages) with the embedded multilingual-e5-small, the same prefixes,
batch size and maximum length. sentence-transformers runs as it does by default (fp32). Our
Encoder runs without its embedding cache and with a cold token-id memo in every timed round, so
it does all the work ST does. Timed rounds alternate between the systems and the best of
``--repeats`` is kept, so that other load on the machine biases neither side.

Printed: the CPU flags that decide the kernels (AVX2, FMA, AVX-512, AVX-512 BF16, AMX), texts/s
and real tokens/s, achieved GFLOP/s (2 x non-embedding parameters x real tokens/s), the fp32 GEMM
peak (``torch.matmul`` of two large square matrices on the same threads, best of the measurements
before and after), the ratio achieved/peak, the ratio to sentence-transformers, and the largest
cosine deviation between ours and ST (~1e-6 in fp32, when both compute the same function).

``--isa avx2`` caps ATen, MKL and oneDNN to AVX2 (bench/peak.py's ``ISA_CAPS``): a newer CPU
then runs the kernels an AVX2-only CPU runs, GEMM peak included, and "auto" means fp32 as there.
Its caches and clock stay its own, so it stands for an AVX2 machine's ratios, not its times.

``--quick`` shrinks everything (24 texts, one round, a small GEMM) to check that the script runs
end to end; its timings mean nothing. The data mirror is ``$REPRO_SHARED_DATA`` or the
repository's sibling ``shared/data``; without XQuAD-R the Tatoeba English sentences are used.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from peak import ISA_CAPS, apply_isa_cap, cpu_flags, cpu_name, gemm_peak, gflops, isa_line, non_embedding_parameters

if __name__ == "__main__":
    apply_isa_cap()  # before torch loads: the caps are read then

import numpy as np
import torch

from repro.models.encoder import Encoder, forget_token_ids
from repro.models.precision import cpu_supports_fast_bf16


def shared_data() -> Path:
    env = os.environ.get("REPRO_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


def load_texts(n: int) -> tuple[list[str], list[str], str]:
    """``n // 2`` questions and ``n - n // 2`` sentences of real English text, and their source."""
    xquad = shared_data() / "lareqa" / "xquad-r" / "en.json"
    if xquad.is_file():
        data = json.loads(xquad.read_text(encoding="utf-8"))["data"]
        paragraphs = [p for article in data for p in article["paragraphs"]]
        questions = [qa["question"] for p in paragraphs for qa in p["qas"]]
        sentences = [s for p in paragraphs for s in p["sentences"]]
        source = str(xquad)
    else:
        tatoeba = sorted((shared_data() / "tatoeba").glob("tatoeba.*-eng.eng"))
        if not tatoeba:
            sys.exit(f"no data: neither {xquad} nor Tatoeba under {shared_data()} (set REPRO_SHARED_DATA)")
        lines = [line for f in tatoeba for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
        questions = [line for line in lines if line.endswith("?")]
        sentences = [line for line in lines if not line.endswith("?")]
        source = str(tatoeba[0].parent)
    n_questions = n // 2
    if len(questions) < n_questions or len(sentences) < n - n_questions:
        sys.exit(f"not enough texts in {source} for --n {n}")
    return questions[:n_questions], sentences[: n - n_questions], source


def build_st(model_path: str, max_length: int):
    """sentence-transformers on the same local folder: Transformer (no pooler), mean Pooling, Normalize."""
    from sentence_transformers import SentenceTransformer

    try:
        from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.models import Normalize, Pooling, Transformer

    try:
        transformer = Transformer(model_path, max_seq_length=max_length, model_kwargs={"add_pooling_layer": False})
    except TypeError:  # older releases call it model_args
        transformer = Transformer(model_path, max_seq_length=max_length, model_args={"add_pooling_layer": False})
    dim = (
        transformer.get_embedding_dimension()
        if hasattr(transformer, "get_embedding_dimension")
        else transformer.get_word_embedding_dimension()
    )
    return SentenceTransformer(modules=[transformer, Pooling(dim, "mean"), Normalize()], device="cpu")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=512, help="texts to encode (half queries, half passages)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds per system (best kept)")
    parser.add_argument(
        "--precision", default="auto", choices=["auto", "fp32", "bf16"], help="precision of our Encoder"
    )
    parser.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
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
    args = parser.parse_args()
    if args.quick:
        args.n, args.repeats, args.gemm_n, args.max_length = 24, 1, 256, 64
    if args.threads:
        torch.set_num_threads(args.threads)
    gemm_kwargs = {"n": args.gemm_n, "repeats": 1 if args.quick else 5, "min_seconds": 0.05 if args.quick else 0.5}

    flags = cpu_flags()
    peak_before = gemm_peak(**gemm_kwargs)
    questions, sentences, source = load_texts(args.n)
    encoders: dict[str, Encoder] = {}
    ours = Encoder(
        "e5-small",
        device="cpu",
        precision=args.precision,
        max_length=args.max_length,
        batch_size=args.batch_size,
        cache=False,
    )
    encoders[ours.precision] = ours
    if ours.precision != "fp32":
        encoders["fp32"] = Encoder(
            "e5-small",
            device="cpu",
            precision="fp32",
            max_length=args.max_length,
            batch_size=args.batch_size,
            cache=False,
        )
    st = build_st(ours.model_path, args.max_length)
    parameters = non_embedding_parameters(ours.model)
    real_tokens = sum(len(ids) for ids in ours.token_ids(["query: " + q for q in questions]))
    real_tokens += sum(len(ids) for ids in ours.token_ids(["passage: " + s for s in sentences]))

    def run_ours(encoder: Encoder) -> tuple[np.ndarray, dict[str, float]]:
        forget_token_ids()  # tokenising is part of the work, as it is for ST
        before = dict(encoder.stats)
        vectors = np.concatenate(
            [encoder.encode(questions, "query", progress=False), encoder.encode(sentences, "passage", progress=False)]
        )
        return vectors, {k: encoder.stats[k] - before[k] for k in ("tokens", "padded_tokens", "forwards")}

    def run_st() -> np.ndarray:
        kwargs = dict(batch_size=args.batch_size, convert_to_numpy=True, show_progress_bar=False)
        return np.concatenate(
            [
                st.encode(questions, prompt=ours.query_prefix, **kwargs),
                st.encode(sentences, prompt=ours.passage_prefix, **kwargs),
            ]
        ).astype(np.float32)

    # Warm-up: first calls pay for allocator growth and kernel selection.
    warm = questions[:16] + sentences[:16]
    for encoder in encoders.values():
        encoder.encode(warm, "passage", progress=False)
    st.encode(warm, batch_size=args.batch_size, show_progress_bar=False)

    times: dict[str, list[float]] = {f"ours_{name}": [] for name in encoders} | {"st": []}
    vectors: dict[str, np.ndarray] = {}
    work: dict[str, dict[str, float]] = {}
    for _ in range(args.repeats):
        for name, encoder in encoders.items():
            start = time.perf_counter()
            vectors[name], work[name] = run_ours(encoder)
            times[f"ours_{name}"].append(time.perf_counter() - start)
        start = time.perf_counter()
        vectors["st"] = run_st()
        times["st"].append(time.perf_counter() - start)
    peak_after = gemm_peak(**gemm_kwargs)
    peak = max(peak_before["gflops"], peak_after["gflops"])

    n = len(questions) + len(sentences)
    best = {name: min(values) for name, values in times.items()}
    systems: dict[str, dict[str, Any]] = {}
    for name, seconds in best.items():
        rate = gflops(parameters, real_tokens, seconds)
        systems[name] = {
            "precision": "fp32" if name == "st" else name.removeprefix("ours_"),
            "seconds": times[name],
            "texts_per_s": n / seconds,
            "tokens_per_s": real_tokens / seconds,
            "gflops": rate,
            "fraction_of_fp32_peak": rate / peak,
        }
    for name, w in work.items():
        systems[f"ours_{name}"]["padded_over_real_tokens"] = w["padded_tokens"] / w["tokens"]
        systems[f"ours_{name}"]["forwards"] = w["forwards"]
    ours_key = f"ours_{ours.precision}"
    result = {
        "texts": n,
        "real_tokens": real_tokens,
        "source": source,
        "batch_size": args.batch_size,
        "max_length": args.max_length,
        "repeats": args.repeats,
        "quick": args.quick,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpu": cpu_name(),
        "cpu_flags": flags,
        "isa": args.isa,
        "isa_caps": ISA_CAPS[args.isa],
        "cpu_fast_bf16": cpu_supports_fast_bf16(),
        "non_embedding_parameters": parameters,
        "gemm_peak_gflops": peak,
        "gemm_peak_runs": [peak_before, peak_after],
        "systems": systems,
        "ratio_ours_over_st": best["st"] / best[ours_key],
        "ratio_ours_fp32_over_st": best["st"] / best["ours_fp32"],
        "max_cos_dev_ours_vs_st": float(1.0 - (vectors[ours.precision] * vectors["st"]).sum(axis=1).min()),
        "max_cos_dev_fp32_vs_st": float(1.0 - (vectors["fp32"] * vectors["st"]).sum(axis=1).min()),
    }

    print(f"CPU: {result['cpu']}; flags: " + ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in flags.items()))
    print(isa_line(args.isa) + f"; native bf16 for auto: {cpu_supports_fast_bf16()}")
    print(
        f"{n} texts ({real_tokens} tokens) from {source}; batch {args.batch_size}, max length {args.max_length}, "
        f"{result['threads']} threads, {args.repeats} round(s), load average {os.getloadavg()[0]:.2f}"
        + ("; --quick: timings mean nothing" if args.quick else "")
    )
    print(
        f"fp32 GEMM peak ({args.gemm_n}x{args.gemm_n} matmul, same threads): {peak:.1f} GFLOP/s "
        f"(before {peak_before['gflops']:.1f}, after {peak_after['gflops']:.1f}); "
        f"{parameters / 1e6:.1f} M non-embedding parameters"
    )
    print(f"{'system':<30}{'precision':>10}{'texts/s':>9}{'tokens/s':>10}{'GFLOP/s':>9}{'% peak':>8}{'vs ST':>7}")
    for name, label in [(f"ours_{p}", "repro Encoder") for p in encoders] + [("st", "sentence-transformers")]:
        s = systems[name]
        print(
            f"{label:<30}{s['precision']:>10}{s['texts_per_s']:>9.1f}{s['tokens_per_s']:>10.0f}{s['gflops']:>9.1f}"
            f"{100 * s['fraction_of_fp32_peak']:>7.0f}%{best['st'] / best[name]:>6.2f}x"
        )
    for name in encoders:
        s = systems[f"ours_{name}"]
        print(
            f"ours({name}): padded/real tokens {s['padded_over_real_tokens']:.3f} in {s['forwards']:.0f} forward passes"
        )
    print(
        f"ratio ours({ours.precision})/ST: {result['ratio_ours_over_st']:.2f}x; ours(fp32)/ST: "
        f"{result['ratio_ours_fp32_over_st']:.2f}x (target >= 1.5x); ours(fp32) at "
        f"{100 * systems['ours_fp32']['fraction_of_fp32_peak']:.0f}% of the fp32 GEMM peak (target >= 70%)"
    )
    print(
        f"max cosine deviation ours({ours.precision}) vs ST(fp32): {result['max_cos_dev_ours_vs_st']:.2e} (must be <= 0.01); "
        f"ours(fp32) vs ST(fp32): {result['max_cos_dev_fp32_vs_st']:.2e}"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
