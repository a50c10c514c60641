"""Encoding throughput: repro's Encoder vs sentence-transformers on the same converted model.

Usage::

    python bench/bench_encode.py [--n 512] [--batch-size 32] [--max-length 256] [--repeats 3]
                                 [--precision auto] [--json PATH]

Both sides encode the same real English texts from the XQuAD-R mirror (half questions as
queries, half sentences as passages) with the embedded multilingual-e5-small, the same prefixes,
batch size and maximum length. sentence-transformers runs as it does by default (fp32). Timed
runs alternate between the two and the best of ``--repeats`` is kept, so that other load on the
machine biases neither side. Also reported: the largest cosine deviation between ours (at the
chosen precision) and sentence-transformers, and between ours in fp32 and sentence-transformers
(~1e-6 when both compute the same function).

The data mirror is ``$REPRO_SHARED_DATA`` or the repository's sibling ``shared/data``; without
XQuAD-R the Tatoeba English sentences are used.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from repro.models.encoder import Encoder
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=512, help="texts to encode (half queries, half passages)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per system (best kept)")
    parser.add_argument(
        "--precision", default="auto", choices=["auto", "fp32", "bf16"], help="precision of our Encoder"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    from sentence_transformers import SentenceTransformer

    try:
        from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.models import Normalize, Pooling, Transformer

    questions, sentences, source = load_texts(args.n)
    ours = Encoder(
        "e5-small", device="cpu", precision=args.precision, max_length=args.max_length, batch_size=args.batch_size
    )
    ours_fp32 = (
        ours
        if ours.precision == "fp32"
        else Encoder("e5-small", device="cpu", precision="fp32", max_length=args.max_length, batch_size=args.batch_size)
    )
    # Same converted folder; the pooler is dropped as in our Encoder (unused by mean pooling).
    try:
        transformer = Transformer(
            ours.model_path, max_seq_length=args.max_length, model_kwargs={"add_pooling_layer": False}
        )
    except TypeError:  # older releases call it model_args
        transformer = Transformer(
            ours.model_path, max_seq_length=args.max_length, model_args={"add_pooling_layer": False}
        )
    dim = (
        transformer.get_embedding_dimension()
        if hasattr(transformer, "get_embedding_dimension")
        else transformer.get_word_embedding_dimension()
    )
    st = SentenceTransformer(modules=[transformer, Pooling(dim, "mean"), Normalize()], device="cpu")

    def run_ours(encoder: Encoder) -> np.ndarray:
        return np.concatenate(
            [
                encoder.encode(questions, "query", progress=False),
                encoder.encode(sentences, "passage", progress=False),
            ]
        )

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
    ours.encode(warm, "passage", progress=False)
    st.encode(warm, batch_size=args.batch_size, show_progress_bar=False)

    times: dict[str, list[float]] = {"ours": [], "st": []}
    for _ in range(args.repeats):
        start = time.perf_counter()
        ours_vectors = run_ours(ours)
        times["ours"].append(time.perf_counter() - start)
        start = time.perf_counter()
        st_vectors = run_st()
        times["st"].append(time.perf_counter() - start)
    fp32_vectors = ours_vectors if ours_fp32 is ours else run_ours(ours_fp32)

    n = len(questions) + len(sentences)
    best = {name: min(values) for name, values in times.items()}
    result = {
        "texts": n,
        "source": source,
        "batch_size": args.batch_size,
        "max_length": args.max_length,
        "repeats": args.repeats,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
        "cpu_fast_bf16": cpu_supports_fast_bf16(),
        "ours_precision": ours.precision,
        "ours_texts_per_s": n / best["ours"],
        "st_texts_per_s": n / best["st"],
        "ours_seconds": times["ours"],
        "st_seconds": times["st"],
        "ratio_ours_over_st": best["st"] / best["ours"],
        "max_cos_dev_ours_vs_st": float(1.0 - (ours_vectors * st_vectors).sum(axis=1).min()),
        "max_cos_dev_fp32_vs_st": float(1.0 - (fp32_vectors * st_vectors).sum(axis=1).min()),
    }

    print(
        f"{n} texts from {source}; batch {args.batch_size}, max length {args.max_length}, "
        f"{result['threads']} threads, CPU native bf16: {result['cpu_fast_bf16']}"
    )
    median = {name: float(np.median(values)) for name, values in times.items()}
    result["ratio_ours_over_st_median"] = median["st"] / median["ours"]
    print(f"{'system':<32}{'precision':>10}{'texts/s':>9}{'best s':>8}{'median s':>10}")
    print(
        f"{'repro Encoder':<32}{ours.precision:>10}{result['ours_texts_per_s']:>9.1f}{best['ours']:>8.2f}{median['ours']:>10.2f}"
    )
    print(
        f"{'sentence-transformers encode':<32}{'fp32':>10}{result['st_texts_per_s']:>9.1f}{best['st']:>8.2f}{median['st']:>10.2f}"
    )
    print(
        f"ratio ours/ST: {result['ratio_ours_over_st']:.2f}x best, {result['ratio_ours_over_st_median']:.2f}x median (target >= 1.5x)"
    )
    print(
        f"max cosine deviation ours({ours.precision}) vs ST(fp32): {result['max_cos_dev_ours_vs_st']:.2e} (must be <= 0.01)"
    )
    if ours.precision != "fp32":
        print(f"max cosine deviation ours(fp32) vs ST(fp32): {result['max_cos_dev_fp32_vs_st']:.2e}")
    else:
        print("(precision auto resolved to fp32 here: the line above is also the fp32-vs-fp32 deviation)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
