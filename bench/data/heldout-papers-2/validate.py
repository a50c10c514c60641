#!/usr/bin/env python3
"""Standalone checks for the held-out material, set 2 (no dependency on the tool).
Checks: every YAML parses; claim files have the required fields, unique ids, the
intended label/kind counts, and evidence strings (>= 6 words) that occur verbatim
in the paper; extraction sentences occur verbatim in the paper, in order, and
cover all prose; inconsistency locations occur verbatim; exactly 2 of the 4 papers are
inconsistent, with exactly 2 planted inconsistencies each, covering the four kinds
between them; every paper has a PDF with 2-4 pages and the seed paper's PDF exists
with >= 2 pages."""

import collections, pathlib, re, sys
import yaml

ROOT = pathlib.Path(__file__).resolve().parent
TYPES = {None, "result", "comparison", "setup", "data", "protocol", "scope"}
KINDS = ["negation", "number", "unit", "direction", "swapped_entity", "quantifier", "swapped_comparison"]
errors = []


def err(msg):
    errors.append(msg)


papers = {p.stem: p.read_text(encoding="utf-8") for p in sorted((ROOT / "papers").glob("*.md"))}
for f in sorted(ROOT.rglob("*.yaml")):
    try:
        yaml.safe_load(f.read_text(encoding="utf-8"))
    except Exception as e:
        err(f"{f}: YAML error {e}")

totals = collections.Counter()
for slug, text in papers.items():
    # ---- claims ----
    cf = ROOT / "claims" / f"{slug}.yaml"
    if not cf.exists():
        err(f"missing {cf}")
        continue
    d = yaml.safe_load(cf.read_text(encoding="utf-8"))
    if d.get("paper") != slug:
        err(f"{cf}: paper field {d.get('paper')!r}")
    ids, cnt = set(), collections.Counter()
    for c in d["claims"]:
        for k in ("id", "label", "kind", "claim", "evidence", "why"):
            if not isinstance(c.get(k), str) or not c[k].strip():
                err(f"{cf}: {c.get('id')} missing {k}")
        if c["id"] in ids:
            err(f"{cf}: duplicate id {c['id']}")
        ids.add(c["id"])
        lab, kind = c["label"], c["kind"]
        ok = (
            (lab == "supported" and kind == "paraphrase")
            or (lab == "unstated" and kind == "unstated")
            or (lab == "contradicted" and kind in KINDS)
        )
        if not ok:
            err(f"{cf}: {c['id']} bad label/kind {lab}/{kind}")
        if len(c["evidence"].split()) < 6:
            err(f"{cf}: {c['id']} evidence shorter than 6 words")
        if c["evidence"] not in text:
            err(f"{cf}: {c['id']} evidence not verbatim in paper: {c['evidence']!r}")
        if c["claim"].strip() in text:
            err(f"{cf}: {c['id']} claim copied verbatim from paper")
        cnt[(lab, kind)] += 1
        totals[(lab, kind)] += 1
    want = {("supported", "paraphrase"): 14, ("unstated", "unstated"): 5, **{("contradicted", k): 3 for k in KINDS}}
    if cnt != collections.Counter(want):
        err(f"{cf}: counts {dict(cnt)} != {want}")
    # ---- extraction ----
    ef = ROOT / "extraction" / f"{slug}.yaml"
    if not ef.exists():
        err(f"missing {ef}")
        continue
    e = yaml.safe_load(ef.read_text(encoding="utf-8"))
    m = re.search(r"^# (.+)$", text, re.M)
    if not m or e.get("title") != m.group(1).strip():
        err(f"{ef}: title mismatch")
    pos, n = 0, 0
    prose = [
        l
        for l in text.splitlines()
        if l.strip() and not l.lstrip().startswith(("#", "|")) and not re.match(r"^Table \d+:", l.strip())
    ]
    covered = "\n".join(prose)
    for sec in e["sections"]:
        for s in sec["sentences"]:
            n += 1
            if set(s) != {"text", "type"}:
                err(f"{ef}: bad keys {s}")
            if s["type"] not in TYPES:
                err(f"{ef}: bad type {s['type']!r}")
            i = text.find(s["text"], pos)
            if i < 0:
                err(f"{ef}: sentence not found (in order): {s['text'][:80]!r}")
            else:
                pos = i + len(s["text"])
            covered = covered.replace(s["text"], "", 1)
    leftover = covered.replace("\n", " ").strip()
    if leftover:
        err(f"{ef}: prose not covered by sentences: {leftover[:120]!r}")
    totals[("sentences", slug)] = n
    totals[("words", slug)] = len(text.split())

inc = yaml.safe_load((ROOT / "inconsistencies.yaml").read_text(encoding="utf-8"))
listed = {p["paper"] for p in inc["papers"]}
if listed != set(papers):
    err(f"inconsistencies.yaml lists {listed}, papers are {set(papers)}")
n_bad = 0
for p in inc["papers"]:
    if p["status"] == "inconsistent":
        n_bad += 1
        if len(p["inconsistencies"]) != 2:
            err(f"{p['paper']}: need exactly 2 inconsistencies")
        for x in p["inconsistencies"]:
            if x["location"] not in papers[p["paper"]]:
                err(f"{p['paper']}: location not verbatim: {x['location']!r}")
if n_bad != 2:
    err(f"expected 2 inconsistent papers, got {n_bad}")
if len(papers) != 4:
    err(f"expected 4 papers, got {len(papers)}")
kinds = sorted(x["kind"] for p in inc["papers"] if p["status"] == "inconsistent" for x in p["inconsistencies"])
if kinds != sorted(["table_mean_or_total", "text_vs_table", "same_quantity_twice", "relative_change"]):
    err(f"inconsistency kinds {kinds} do not cover the four required kinds once each")
for p in inc["papers"]:
    if p["status"] == "clean" and p.get("inconsistencies"):
        err(f"{p['paper']}: clean paper lists inconsistencies")
    if p["status"] not in ("clean", "inconsistent"):
        err(f"{p['paper']}: bad status {p['status']!r}")


# ---- PDFs ----
def pdf_pages(path):
    data = path.read_bytes()
    if not data.startswith(b"%PDF"):
        return -1
    try:
        import pymupdf

        return pymupdf.open(str(path)).page_count
    except ImportError:
        m = re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", data)
        return max(int(x) for x in m) if m else len(re.findall(rb"/Type\s*/Page\b", data))


for slug in papers:
    pf = ROOT / "papers" / f"{slug}.pdf"
    if not pf.exists():
        err(f"missing {pf}")
        continue
    n = pdf_pages(pf)
    totals[("pdf_pages", slug)] = n
    if not 2 <= n <= 4:
        err(f"{pf}: {n} pages, expected 2-4")
seed = ROOT / "papers" / "seed-2408.10536.pdf"
if not seed.exists():
    err(f"missing {seed}")
else:
    n = pdf_pages(seed)
    totals[("pdf_pages", seed.stem)] = n
    if n < 2:
        err(f"{seed}: {n} pages, expected >= 2")

for k, v in sorted(totals.items(), key=str):
    print(k, v)
if errors:
    print(f"\n{len(errors)} ERROR(S):")
    [print(" -", x) for x in errors]
    sys.exit(1)
print("\nALL CHECKS PASSED")
