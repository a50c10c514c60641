"""Seconds per claim of the text check on a ~30-page paper, after a one-time (cached) index of it.

The paper is the six papers of bench/data/heldout-papers and the seed paper
(../shared/papers/2408.10536-openreview.md) joined into one Markdown document (about 30 pages of
prose and tables). The run:

1. **index**: passages, BM25, the paper's own names and the e5 embeddings of every passage, once
   (the embeddings go to a fresh on-disk cache, so this is the cost a first ``repro verify`` pays);
2. **cached**: ``find_support`` for ``--claims`` claims (the six papers' labelled claims, in a
   fixed order) against the indexed paper, as ``repro verify`` runs its text checks;
3. **no cache**: the obvious alternative, for ``--uncached`` of the same claims: every claim
   builds the index again (re-encoding every passage), as a check that kept nothing between claims
   would.

Printed: the CPU, its flags and thread count, the paper's size, the index's one-time seconds,
seconds per claim with and without the index, and their ratio; ``--profile`` adds the cProfile
functions that take the most time in the cached part. Times are only meaningful on an otherwise
idle machine (the target is <= 0.5 s a claim on 2 cores).

    python bench/bench_text_speed.py [--claims 40] [--uncached 1] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peak import cpu_flags, cpu_name

HERE = Path(__file__).resolve().parent
HELDOUT = HERE / "data" / "heldout-papers"
SEED = HERE.parent.parent / "shared" / "papers" / "2408.10536-openreview.md"
WORDS_PER_PAGE = 500  # a two-column page of a conference paper


def build_paper(folder: Path) -> tuple[Path, list[str]]:
    """The joined paper (written into ``folder``) and the labelled claims of its six parts, interleaved."""
    parts, claims = [], []
    for md in sorted((HELDOUT / "papers").glob("*.md")):
        parts.append(md.read_text(encoding="utf-8"))
        spec = yaml.safe_load((HELDOUT / "claims" / f"{md.stem}.yaml").read_text(encoding="utf-8"))
        claims.append([c["claim"] for c in spec["claims"]])
    if SEED.is_file():
        parts.append(SEED.read_text(encoding="utf-8"))
    path = folder / "joined-paper.md"
    path.write_text("\n\n".join(parts), encoding="utf-8")
    # Interleaved, so that any first N claims are about all six papers.
    order = [c for group in zip(*claims) for c in group]
    return path, order


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--claims", type=int, default=40, help="claims checked against the indexed paper")
    ap.add_argument("--uncached", type=int, default=1, help="claims checked without the index (each re-indexes)")
    ap.add_argument("--profile", action="store_true", help="cProfile the cached claims and print the top functions")
    args = ap.parse_args()
    if args.claims < 1 or args.uncached < 0:
        sys.exit("error: --claims must be >= 1 and --uncached >= 0")

    import torch

    from repro.checks.text_support import search
    from repro.models.encoder import Encoder
    from repro.sources.loader import load_document

    with tempfile.TemporaryDirectory() as tmp:
        path, claims = build_paper(Path(tmp))
        doc = load_document(path, use_cache=False)
        words = sum(len(b.text.split()) for b in doc.blocks) + sum(len(t.cells) for t in doc.tables)
        claims = claims[: args.claims]
        # A fresh embedding cache for the index, and none for the encoder: the one-time cost is paid here.
        home = Path(tmp) / "home"
        search.repro_home = lambda: home  # type: ignore[assignment]
        encoder = Encoder("e5-small", cache=False)
        encoder.encode(["warm up"], "query", progress=False)  # the model's load is not the index's cost

        t0 = time.perf_counter()
        index = search._index(doc, search.load_vocabulary())
        index.embeddings(encoder)
        index_s = time.perf_counter() - t0

        profiler = cProfile.Profile() if args.profile else None
        t0 = time.perf_counter()
        if profiler:
            profiler.enable()
        verdicts = [search.find_support(c, doc, encoder=encoder).verdict for c in claims]
        if profiler:
            profiler.disable()
        cached_s = (time.perf_counter() - t0) / len(claims)

        uncached_s = float("nan")
        if args.uncached:
            t0 = time.perf_counter()
            for i, c in enumerate(claims[: args.uncached]):
                search._INDEXES.clear()
                search.repro_home = lambda i=i: Path(tmp) / f"home-{i}"  # type: ignore[assignment]
                search.find_support(c, doc, encoder=encoder)
            uncached_s = (time.perf_counter() - t0) / args.uncached

    flags = cpu_flags()
    print(f"CPU: {cpu_name()}; flags: {', '.join(f for f, on in flags.items() if on) or 'none of ' + ', '.join(flags)}")
    print(f"threads: torch {torch.get_num_threads()}, cores visible {os.cpu_count()}")
    print(
        f"paper: {len(doc.blocks)} blocks, {len(doc.tables)} tables, {words} words "
        f"(~{words / WORDS_PER_PAGE:.0f} pages), {len(index.items)} passages"
    )
    print(f"index (one time, cached on disk): {index_s:.2f} s")
    counts = {v: verdicts.count(v) for v in dict.fromkeys(verdicts)}
    print(f"cached:   {cached_s:.3f} s per claim over {len(claims)} claims ({counts})")
    if args.uncached:
        print(f"no cache: {uncached_s:.3f} s per claim over {args.uncached} claims (re-indexing each time)")
        print(f"ratio no cache / cached: {uncached_s / cached_s:.1f}x")
    print("target: <= 0.5 s per claim on 2 cores after the index (times are only meaningful on an idle machine)")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        print(out.getvalue())


if __name__ == "__main__":
    main()
