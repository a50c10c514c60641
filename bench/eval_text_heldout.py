"""The text check and the paper self-check on six papers from other fields, written by someone who never saw the code.

Material: bench/data/heldout-papers/ (its README says how it was written): six short Markdown
papers (ecology, battery chemistry, a clinical trial, computer vision, labour economics, speech
enhancement), 40 labelled claims each (14 reworded true claims, 3 contradictions of each of 7
kinds, 5 unstated), every prose sentence labelled for extraction, and planted inconsistencies in
three papers. Which papers are DEV (tuned on) and which HELD-OUT (scored once) is in SPLIT below.

For every claim, ``find_support`` runs on the paper as ``repro verify`` runs a ``text`` check (the
shared vocabulary, the embedded e5 encoder, the NLI head), and this prints per paper and per kind,
each with a 95 % Wilson interval:

- **reworded true claims supported** (target >= 80 %);
- **each contradiction kind caught** (called contradicted) and **caught with the right reason**
  (the deciding passage's reason is of the kind's family: a number for ``number``, another unit
  for ``unit``, a negation for ``negation``...; target >= 90 %);
- **false support**: contradicted or unstated claims called supported (target <= 5 %).

``--findings`` renders each paper as a two-column PDF (repro.claims.extraction_eval.render_document),
parses it back and lists the self-check's findings against the planted inconsistencies.
Extraction is scored by ``python bench/eval_extraction.py --file bench/data/heldout-papers/extraction/<paper>.yaml``.

    python bench/eval_text_heldout.py [--split dev|heldout|all] [--errors] [--findings]
"""

from __future__ import annotations

import argparse
import math
import re
import tempfile
from collections import defaultdict
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parent / "data" / "heldout-papers"
# All six papers are DEV material now (the last three were scored once as held-out, see
# bench/results/text_heldout.md); a folder of new papers given with ``--data`` is all held-out.
PAPERS = [
    "ecology-grassland",
    "battery-cathode",
    "vision-augmentation",
    "clinical-hypertension",
    "labour-minwage",
    "speech-enhancement",
]
SPLIT = {"dev": PAPERS, "heldout": []}
KINDS = ("negation", "number", "unit", "direction", "swapped_entity", "quantifier", "swapped_comparison")
# The reason families that count as catching each kind for the right reason.
RIGHT_REASON = {
    "negation": ("negation", "opposite words"),
    "number": ("different number",),
    "unit": ("another unit", "different number"),
    "direction": (
        "opposite words",
        "opposite direction",
        "roles swapped",
        "an increase of",
        "a decrease of",
        "negation",
    ),
    "swapped_entity": ("swapped ", "different number"),
    "quantifier": ("only against", "all against", "none against", "a closed list", "different number"),
    "swapped_comparison": ("roles swapped", "opposite words"),
}


def wilson(k: int, n: int) -> tuple[float, float]:
    """The 95 % Wilson score interval of k successes in n."""
    from scipy.stats import norm

    if n == 0:
        return (float("nan"), float("nan"))
    z = float(norm.ppf(0.975))
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def fmt(k: int, n: int) -> str:
    if n == 0:
        return "   -   "
    lo, hi = wilson(k, n)
    return f"{k:2d}/{n:<2d} {k / n:4.0%} [{lo:.2f}, {hi:.2f}]"


def right_reason(kind: str, reason: str) -> bool:
    """Whether a contradiction's reason is of the family of ``kind``."""
    return any(reason.startswith(r) or r in reason for r in RIGHT_REASON.get(kind, ()))


def score(data: Path, papers: list[str], errors: bool) -> None:
    from repro.checks.text_support.search import find_support
    from repro.models.encoder import Encoder
    from repro.sources.loader import load_document

    encoder = Encoder("e5-small")
    rows: dict[tuple[str, str], list[tuple[bool, bool, bool]]] = defaultdict(list)
    for paper in papers:
        doc = load_document(data / "papers" / f"{paper}.md")
        spec = yaml.safe_load((data / "claims" / f"{paper}.yaml").read_text(encoding="utf-8"))
        for c in spec["claims"]:
            s = find_support(c["claim"], doc, encoder=encoder)
            best = s.best
            reason = best.reason if best else ""
            if c["label"] == "supported":
                ok = s.verdict == "supported"
                rows[(paper, "paraphrase")].append((ok, ok, False))
            elif c["label"] == "contradicted":
                caught = s.verdict == "contradicted"
                rows[(paper, c["kind"])].append(
                    (caught, caught and right_reason(c["kind"], reason), s.verdict == "supported")
                )
                ok = caught and right_reason(c["kind"], reason)
            else:
                ok = s.verdict != "supported"
                rows[(paper, "unstated")].append((ok, ok, s.verdict == "supported"))
            if errors and not ok:
                quote = re.sub(r"\s+", " ", best.quote)[:150] if best else ""
                print(
                    f"  {c['id']} [{c['label']}/{c['kind']}] -> {s.verdict} ({reason})\n      claim: {c['claim']}\n      best:  {quote}"
                )
    print(
        f"\n{'paper':24s} {'reworded true supported':>26s} {'contradictions caught, right reason':>36s} {'false support':>26s}"
    )
    tot = defaultdict(lambda: [0, 0])
    for paper in papers:
        sup = rows[(paper, "paraphrase")]
        con = [r for k in KINDS for r in rows[(paper, k)]]
        neg = con + rows[(paper, "unstated")]
        vals = [
            (sum(r[0] for r in sup), len(sup)),
            (sum(r[1] for r in con), len(con)),
            (sum(r[2] for r in neg), len(neg)),
        ]
        for i, (k, n) in enumerate(vals):
            tot[i][0] += k
            tot[i][1] += n
        print(f"{paper:24s} {fmt(*vals[0]):>26s} {fmt(*vals[1]):>36s} {fmt(*vals[2]):>26s}")
    print(f"{'all':24s} {fmt(*tot[0]):>26s} {fmt(*tot[1]):>36s} {fmt(*tot[2]):>26s}")
    print(f"\n{'kind':20s} {'caught (contradicted)':>26s} {'caught, right reason':>26s} {'called supported':>26s}")
    for kind in (*KINDS, "unstated"):
        rs = [r for p in papers for r in rows[(p, kind)]]
        if kind == "unstated":
            print(f"{kind:20s} {'':>26s} {'':>26s} {fmt(sum(r[2] for r in rs), len(rs)):>26s}")
            continue
        print(
            f"{kind:20s} {fmt(sum(r[0] for r in rs), len(rs)):>26s} {fmt(sum(r[1] for r in rs), len(rs)):>26s} "
            f"{fmt(sum(r[2] for r in rs), len(rs)):>26s}"
        )


def findings(data: Path, papers: list[str]) -> None:
    from repro.claims.extraction_eval import render_document

    from repro.sources.consistency import check_document
    from repro.sources.loader import load_document
    from repro.sources.pdf import parse_pdf

    listed = data / "inconsistencies.yaml"
    planted = yaml.safe_load(listed.read_text(encoding="utf-8")) if listed.is_file() else {"papers": []}
    with tempfile.TemporaryDirectory() as tmp:
        for paper in papers:
            md = load_document(data / "papers" / f"{paper}.md")
            pdf = parse_pdf(render_document(md, Path(tmp) / f"{paper}.pdf"))
            print(f"\n{paper}: {len(pdf.tables)} tables read from the PDF ({', '.join(t.label for t in pdf.tables)})")
            for source, doc in (("markdown", md), ("pdf", pdf)):
                for f in check_document(doc):
                    print(f"  {source}: {f.kind}: {f.message}")
            entry = next((e for e in planted["papers"] if e["paper"] == paper), {})
            for inc in entry.get("inconsistencies", []):
                print(f"  planted ({inc['kind']}): {inc['location']}")


def papers_of(data: Path, split: str, only: list[str] | None) -> list[str]:
    """The papers to score: ``only``, else the split's (every paper of a ``--data`` folder is held-out)."""
    found = sorted(p.stem for p in (data / "papers").glob("*.md") if (data / "claims" / f"{p.stem}.yaml").is_file())
    if only:
        unknown = sorted(set(only) - set(found))
        if unknown:
            raise SystemExit(f"error: no paper {', '.join(unknown)} in {data} (papers: {', '.join(found)})")
        return only
    if data.resolve() != DATA.resolve():
        return [] if split == "dev" else found
    if split == "all":
        return SPLIT["dev"] + SPLIT["heldout"]
    return SPLIT[split]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=["dev", "heldout", "all"], default="dev")
    ap.add_argument(
        "--data",
        type=Path,
        default=DATA,
        help="a folder with papers/<slug>.md and claims/<slug>.yaml (default: bench/data/heldout-papers); "
        "every paper of another folder is held-out",
    )
    ap.add_argument("--paper", action="append", help="only these papers")
    ap.add_argument("--errors", action="store_true", help="list every claim judged wrong")
    ap.add_argument("--findings", action="store_true", help="the self-check on the rendered PDFs instead")
    args = ap.parse_args()
    if not (args.data / "papers").is_dir():
        raise SystemExit(f"error: {args.data} has no papers/ folder")
    papers = papers_of(args.data, args.split, args.paper)
    if not papers:
        raise SystemExit(f"error: split {args.split!r} of {args.data} has no papers (another folder is all held-out)")
    if args.findings:
        findings(args.data, papers)
    else:
        score(args.data, papers, args.errors)


if __name__ == "__main__":
    main()
