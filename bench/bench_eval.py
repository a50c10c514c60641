"""Wall time of the full XQuAD-R evaluation (3 settings, 11 languages) with the default encoder,
then the metric benchmark (ours vs pytrec_eval) on the real multilingual run it produced.

    python bench/bench_eval.py [--model e5-small] [--json PATH]

Target: the whole evaluation in <= 10 minutes on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_metrics import bench, print_report

from repro.evaluation.lareqa import encode_lareqa, multilingual_pool, score_lareqa
from repro.evaluation.result import render
from repro.evaluation.search import exact_search
from repro.models.encoder import Encoder

TARGET_S = 600.0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="e5-small")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)

    t0 = time.perf_counter()
    encoder = Encoder(args.model)
    t_load = time.perf_counter() - t0
    langs = encode_lareqa(encoder, "xquad-r", progress=True)
    t_encode = time.perf_counter() - t0 - t_load
    result = score_lareqa(langs, "xquad-r")
    wall = time.perf_counter() - t0
    t_score = wall - t_load - t_encode
    print(render(result))
    n_texts = sum(len(l.questions) + len(l.candidates) for l in langs)
    print(f"\nfull XQuAD-R evaluation ({len(langs)} languages, 3 settings, {n_texts} texts encoded):")
    print(
        f"  model load {t_load:.1f} s, encoding {t_encode:.1f} s ({n_texts / t_encode:.0f} texts/s), "
        f"search + metrics {t_score:.1f} s"
    )
    print(f"  wall time {wall:.1f} s (target <= {TARGET_S:.0f} s: {'met' if wall <= TARGET_S else 'MISSED'})")

    # The metric benchmark on the real multilingual run: every query of every language against the pool.
    pool, qrels_by_lang = multilingual_pool(langs)
    queries = np.concatenate([l.q_emb for l in langs])
    qrels = [q for per_lang in qrels_by_lang for q in per_lang]
    run = exact_search(queries, pool)
    res = bench(run, qrels)
    print("\nmetrics vs pytrec_eval on the real XQuAD-R multilingual run:")
    print_report(res)
    if args.json:
        out = {
            "wall_seconds": wall,
            "load_seconds": t_load,
            "encode_seconds": t_encode,
            "score_seconds": t_score,
            "texts": n_texts,
            "summary": result.summary,
            "metrics_bench": res,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1, default=float) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
