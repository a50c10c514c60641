"""Wall time of one evaluation task with the default encoder, split into phases, then (for the full
XQuAD-R evaluation) the metric benchmark (ours vs pytrec_eval) on the real multilingual run.

    python bench/bench_eval.py [--task xquad-r] [--langs en,de] [--limit N] [--sample random]
                               [--distractors N] [--max-length 128] [--precision auto]
                               [--no-cache] [--metrics] [--quick] [--json PATH]

Phases: imports, model load, tokenizer load, data load (parse + subset), tokenise, forward passes,
embedding-cache look-ups and writes, search + metrics, writing the result; ``--no-cache`` (the
default for a benchmark: ``--cache`` to use it) embeds every text. The default run is the full
XQuAD-R evaluation (3 settings, 11 languages), whose target is <= 10 minutes on a 2-core CPU.
``--quick`` is a tiny run (XQuAD-R, 2 languages, limit 8) that checks the script end to end.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

T_START = time.perf_counter()

import numpy as np  # noqa: E402 - imports are a timed phase

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from repro.evaluation.result import render  # noqa: E402
from repro.evaluation.subset import Subset  # noqa: E402
from repro.evaluation.tasks import get_task  # noqa: E402
from repro.models.encoder import Encoder  # noqa: E402

T_IMPORTS = time.perf_counter() - T_START
TARGET_S = 600.0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="e5-small")
    p.add_argument("--task", default="xquad-r")
    p.add_argument("--langs", default=None, help="comma-separated (default: all of the task)")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--sample", default="random", choices=["random", "first"])
    p.add_argument("--distractors", default=None, help="tydi-goldp: a count or 'all'")
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    p.add_argument("--cache", action="store_true", help="use the embedding cache (default: embed everything)")
    p.add_argument("--metrics", action="store_true", help="also benchmark the metrics against pytrec_eval")
    p.add_argument("--quick", action="store_true", help="tiny run to check the script (timings mean nothing)")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    if args.quick:
        args.task, args.langs, args.limit = "xquad-r", "en,th", 8
    langs = args.langs.split(",") if args.langs else None
    distractors = int(args.distractors) if args.distractors and args.distractors.isdigit() else args.distractors

    t0 = time.perf_counter()
    encoder = Encoder(
        args.model, precision=args.precision, max_length=args.max_length, batch_size=args.batch_size, cache=args.cache
    )
    t_setup = time.perf_counter() - t0
    task = get_task(args.task)
    subset = Subset.for_task(args.task, args.limit, args.sample, 0, distractors) if args.limit else Subset()
    result = task.run(encoder=encoder, langs=langs, subset=subset, progress=not args.quick)
    t_task = time.perf_counter() - t0 - t_setup
    with tempfile.TemporaryDirectory() as tmp:
        t1 = time.perf_counter()
        result.save(Path(tmp) / "result.json")
        t_write = time.perf_counter() - t1
    wall = time.perf_counter() - T_START

    st = encoder.stats
    seconds = result.info.get("seconds", {})
    search = float(seconds.get("search_and_metrics", 0.0))
    data = float(seconds.get("load", 0.0))
    inside = st["seconds_load"] + st["seconds_tokenize"] + st["seconds_forward"] + st["seconds_cache"]
    other = t_task - inside - search - data
    phases = {
        "imports": T_IMPORTS,
        "encoder set-up (resolve model, read config, fingerprint)": t_setup,
        "model + tokenizer load (first miss)": st["seconds_load"],
        "data load (parse + subset)": data,
        "tokenise": st["seconds_tokenize"],
        "forward passes": st["seconds_forward"],
        "embedding cache": st["seconds_cache"],
        "search + metrics": search,
        "other (pooling copies, bookkeeping)": other,
        "write result": t_write,
    }
    if not args.quick:
        print(render(result))
    pools = result.info.get("pool", {})
    print(
        f"\n{args.task} {args.langs or 'all languages'} limit {args.limit} ({args.sample}), precision {encoder.precision}:"
    )
    print(
        f"  {int(st['texts'])} texts, {int(st['cached'])} from the cache, {int(st['computed'])} embedded: "
        f"{int(st['tokens'])} real tokens, {int(st['padded_tokens'])} padded, {int(st['forwards'])} forward passes"
    )
    print("  pools: " + "; ".join(f"{s} {min(v.values())}-{max(v.values())}" for s, v in pools.items() if v))
    for name, value in phases.items():
        print(f"  {name:<58} {value:7.2f} s  {100 * value / wall:5.1f} %")
    print(
        f"  wall time {wall:.1f} s" + (f" (target <= {TARGET_S:.0f} s for the full XQuAD-R)" if not args.limit else "")
    )

    out: dict[str, object] = {"wall_seconds": wall, "phases": phases, "encoder_stats": st, "pools": pools}
    if args.metrics and args.task in ("xquad-r", "mlqa-r"):
        # The metric benchmark on the real multilingual run: every query of every language against the pool.
        from bench_metrics import bench, print_report

        from repro.evaluation.lareqa import encode_lareqa, multilingual_pool
        from repro.evaluation.search import exact_search

        langs_data = encode_lareqa(encoder, args.task, langs, subset, progress=False)
        pool, qrels_by_lang = multilingual_pool(langs_data)
        queries = np.concatenate([ld.q_emb for ld in langs_data])
        qrels = [q for per_lang in qrels_by_lang for q in per_lang]
        res = bench(exact_search(queries, pool), qrels)
        print(f"\nmetrics vs pytrec_eval on the real {args.task} multilingual run:")
        print_report(res)
        out["metrics_bench"] = res
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1, default=float) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
