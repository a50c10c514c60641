"""The paper self-check on PDFs: planted inconsistencies found, and false findings, per paper.

Material: a folder laid out as bench/data/heldout-papers (the default, ``--data DIR`` for another):
``papers/<slug>.pdf`` where present, else ``papers/<slug>.md`` rendered as a two-column PDF with
its tables set as journals set them (:func:`bench.extraction_eval.render_document`: rules above
and below, no vertical lines, wide tables across both columns, words hyphenated at line ends),
and ``inconsistencies.yaml`` (per paper ``status: clean`` or its planted ``inconsistencies``, each
with a ``location``: an exact substring of the paper, a sentence or a table row).

Each PDF is parsed back (:func:`repro.sources.pdf.parse_pdf`) and checked
(:func:`repro.sources.consistency.check_document`); a Markdown source is checked as well, as
the reference of what the text itself says. A finding is **at a planted location** when its
quote (or one of the places it names as ``elsewhere``) contains the location, or, for a table row,
when it is a table finding naming that row; a planted inconsistency is **found** when a finding
is at its location. Every other finding is **false** (on a clean paper, all of them).

The seed paper (``--seed``, default ../shared/papers/2408.10536-openreview.md, checked with the
vocabulary of claims/hybrid.yaml) has no planted list: its Markdown's findings are its real issues
(tests/test_extract.py pins them), and a PDF finding is false when the Markdown has no finding of
the same kind on the same quote.

    python bench/eval_pdf_findings.py [--data DIR] [--seed PATH] [--json OUT.json]
        [--baseline BEFORE.json] [--markdown bench/results/pdf_findings.md] [--save-pdfs DIR]

``--save-pdfs DIR`` writes the rendered PDFs in the same layout (so another version of the
parser can be run on the very same files with ``--data DIR``); ``--baseline`` puts the numbers of
an earlier ``--json`` run beside these ones in the printed table.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.append(str(REPO))  # `python bench/eval_pdf_findings.py` from anywhere; an earlier PYTHONPATH wins
DATA = REPO / "bench" / "data" / "heldout-papers"
SEED = REPO.parent / "shared" / "papers" / "2408.10536-openreview.md"


def _norm(text: str) -> str:
    """Letters and digits only, lower case: hyphens, spaces and glyphs a PDF font lacks do not matter."""
    return re.sub(r"[^0-9a-z]", "", text.lower())


def at_location(finding, location: str) -> bool:
    """Whether ``finding`` is at the planted ``location`` (a sentence fragment or a table row)."""
    if location.lstrip().startswith("|"):
        cells = [c.strip() for c in location.strip().strip("|").split("|")]
        label = cells[0]
        return bool(finding.table) and (
            _norm(f"{label} /") in _norm(finding.message) or f" {label} " in f" {finding.message} "
        )
    places = [finding.quote, *finding.elsewhere]
    return any(_norm(location) in _norm(p) for p in places if p)


def score_paper(doc, planted: list[dict], vocab=None) -> dict:
    """Findings of ``doc`` against the planted inconsistencies: found, false, and each finding listed."""
    from repro.sources.consistency import check_document

    found = check_document(doc, vocab)
    hits = [any(at_location(f, p["location"]) for f in found) for p in planted]
    rows = []
    for f in found:
        kinds = [p["kind"] for p in planted if at_location(f, p["location"])]
        rows.append({"kind": f.kind, "message": f.message, "quote": f.quote[:160], "planted": kinds})
    return {
        "planted": len(planted),
        "found": sum(hits),
        "false": sum(1 for r in rows if not r["planted"]),
        "findings": rows,
        "tables": [t.label for t in doc.tables],
    }


def score_seed(md_doc, pdf_doc, vocab) -> dict:
    """The seed PDF's findings against its Markdown's (the real issues): kept, false, lost."""
    from repro.sources.consistency import check_document

    real = check_document(md_doc, vocab)
    got = check_document(pdf_doc, vocab)

    def same(a, b) -> bool:
        return a.kind == b.kind and (_norm(a.quote) == _norm(b.quote) or (a.table and a.table == b.table))

    rows = [
        {"kind": f.kind, "message": f.message, "quote": f.quote[:160], "real": any(same(f, r) for r in real)}
        for f in got
    ]
    return {
        "real": len(real),
        "kept": sum(any(same(r, f) for f in got) for r in real),
        "false": sum(1 for r in rows if not r["real"]),
        "findings": rows,
        "markdown": [{"kind": f.kind, "message": f.message} for f in real],
        "tables": [t.label for t in pdf_doc.tables],
    }


def _pdf_for(src: Path, out: Path) -> Path:
    from bench.extraction_eval import render_document
    from repro.sources.loader import load_document

    return render_document(load_document(src), out)


def run(data: Path, seed: Path | None, save: Path | None) -> dict:
    """Score every paper of ``data`` (and the seed paper) as PDFs; see the module docstring."""
    from repro.claims.registry import load_registry
    from repro.sources.loader import load_document
    from repro.sources.pdf import parse_pdf

    spec = yaml.safe_load((data / "inconsistencies.yaml").read_text(encoding="utf-8"))
    out: dict = {"papers": {}, "seed": None}
    with tempfile.TemporaryDirectory() as tmp:
        where = save or Path(tmp)
        (where / "papers").mkdir(parents=True, exist_ok=True)
        if save:
            shutil.copy(data / "inconsistencies.yaml", save / "inconsistencies.yaml")
        for entry in spec["papers"]:
            slug = entry["paper"]
            planted = entry.get("inconsistencies") or []
            md, pdf = data / "papers" / f"{slug}.md", data / "papers" / f"{slug}.pdf"
            if not pdf.is_file():
                pdf = _pdf_for(md, where / "papers" / f"{slug}.pdf")
            elif save:
                shutil.copy(pdf, where / "papers" / f"{slug}.pdf")
            res = {"status": entry.get("status", "clean"), "pdf": score_paper(parse_pdf(pdf), planted)}
            if md.is_file():
                res["markdown"] = score_paper(load_document(md), planted)
            out["papers"][slug] = res
        if seed is not None and seed.is_file():
            vocab = load_registry(REPO / "claims" / "hybrid.yaml").vocab(REPO / "claims" / "hybrid.yaml")
            md_path = seed if seed.suffix == ".md" else seed.with_suffix(".md")
            seed_pdf = where / "seed.pdf" if seed.suffix == ".md" else seed
            if seed.suffix == ".md" and not (data / "seed.pdf").is_file():
                _pdf_for(seed, seed_pdf)
            elif seed.suffix == ".md":
                seed_pdf = data / "seed.pdf"
                if save:
                    shutil.copy(seed_pdf, where / "seed.pdf")
            out["seed"] = score_seed(load_document(md_path), parse_pdf(seed_pdf), vocab)
    return out


def table(res: dict, before: dict | None) -> str:
    """The per-paper Markdown table (before -> after where a baseline is given) and the seed line."""

    def cell(key: str, paper: str, field: str, src: str = "pdf") -> str:
        now = res["papers"][paper].get(src, {}).get(field, "-")
        if before is None or paper not in before["papers"] or src not in before["papers"][paper]:
            return f"{now}"
        return f"{before['papers'][paper][src].get(field, '-')} → {now}"

    lines = [
        "| paper | status | planted | PDF: planted found | PDF: false findings | Markdown: planted found | Markdown: false findings |",
        "|---|---|---|---|---|---|---|",
    ]
    tot = {"planted": 0, "found": 0, "false": 0, "mfound": 0, "mfalse": 0}
    btot = dict.fromkeys(tot, 0)
    for paper, r in res["papers"].items():
        lines.append(
            f"| {paper} | {r['status']} | {r['pdf']['planted']} | {cell('', paper, 'found')} | "
            f"{cell('', paper, 'false')} | {cell('', paper, 'found', 'markdown')} | {cell('', paper, 'false', 'markdown')} |"
        )
        for k, src, f in (
            ("planted", "pdf", "planted"),
            ("found", "pdf", "found"),
            ("false", "pdf", "false"),
            ("mfound", "markdown", "found"),
            ("mfalse", "markdown", "false"),
        ):
            tot[k] += r.get(src, {}).get(f, 0)
            if before and paper in before["papers"]:
                btot[k] += before["papers"][paper].get(src, {}).get(f, 0)

    def t(k: str) -> str:
        return f"{btot[k]} → {tot[k]}" if before else f"{tot[k]}"

    lines.append(f"| **all** | | {tot['planted']} | {t('found')} | {t('false')} | {t('mfound')} | {t('mfalse')} |")
    s = res.get("seed")
    if s:
        b = (before or {}).get("seed")
        kept = f"{b['kept']} → {s['kept']}" if b else f"{s['kept']}"
        false = f"{b['false']} → {s['false']}" if b else f"{s['false']}"
        lines += [
            "",
            "| seed paper (2408.10536) | real issues (its Markdown's findings) | PDF: real kept | PDF: false findings |",
            "|---|---|---|---|",
            f"| rendered two-column PDF | {s['real']} | {kept} | {false} |",
        ]
    return "\n".join(lines)


def details(res: dict) -> str:
    """Every PDF finding, marked planted/real or false."""
    out = []
    for paper, r in res["papers"].items():
        out.append(f"\n{paper} ({r['status']}; tables read from the PDF: {', '.join(r['pdf']['tables']) or 'none'})")
        for f in r["pdf"]["findings"]:
            mark = f"planted {', '.join(f['planted'])}" if f["planted"] else "FALSE"
            out.append(f"  [{mark}] {f['kind']}: {f['message']}")
    s = res.get("seed")
    if s:
        out.append(f"\nseed paper PDF (tables read: {', '.join(s['tables']) or 'none'})")
        for f in s["findings"]:
            out.append(f"  [{'real' if f['real'] else 'FALSE'}] {f['kind']}: {f['message']}")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA, help="folder with papers/ and inconsistencies.yaml")
    ap.add_argument("--seed", type=Path, default=SEED, help="the seed paper's Markdown (or PDF); 'none' to skip")
    ap.add_argument("--json", type=Path, help="write the scores and every finding as JSON")
    ap.add_argument("--baseline", type=Path, help="an earlier --json run, shown as 'before -> now'")
    ap.add_argument("--markdown", type=Path, help="write the table and the findings to this Markdown file")
    ap.add_argument("--save-pdfs", type=Path, help="keep the PDFs (papers/<slug>.pdf, seed.pdf) in this folder")
    args = ap.parse_args()
    if not (args.data / "inconsistencies.yaml").is_file():
        sys.exit(f"error: {args.data} has no inconsistencies.yaml")
    seed = None if str(args.seed) == "none" else args.seed
    res = run(args.data, seed, args.save_pdfs)
    before = json.loads(args.baseline.read_text(encoding="utf-8")) if args.baseline else None
    text = table(res, before)
    print(text)
    print(details(res))
    if args.json:
        args.json.write_text(json.dumps(res, indent=1, ensure_ascii=False), encoding="utf-8")
    if args.markdown:
        args.markdown.write_text(
            "# Paper self-check on PDFs\n\nMade by `python bench/eval_pdf_findings.py"
            + (f" --baseline {args.baseline}" if before else "")
            + f" --markdown {args.markdown}` (see its docstring for what counts as found and as false)."
            + (
                f" Before: `{args.baseline}`, the same script run on the parser before this change (the"
                " same rendered PDFs)."
                if before
                else ""
            )
            + "\n\n"
            + text
            + "\n\n## Findings on the PDFs (this run)\n\n```"
            + details(res)
            + "\n```\n",
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
