#!/usr/bin/env python3
"""Render the Markdown papers to two-column conference-style PDFs with reportlab.

Usage: .venv/bin/python render.py                 (all papers/*.md + the seed paper)
       .venv/bin/python render.py in.md out.pdf   (one file)

Layout: US letter, 0.75 in margins, two columns with a 0.25 in gutter, 9.5 pt Liberation
Serif (Times metrics) body text, justified, with words hyphenated at line breaks by
reportlab's pyphen-based hyphenation (hyphenationLang='en_US').  Title, author line and
abstract span both columns on page 1.  Markdown tables become real tables with
booktabs-style rules (thick top/bottom rule, thin rule below the header), a bold header
row, right-aligned numeric cells and the "Table N: ..." caption above the table.  Tables
that fit a column stay in the column; wider ones float to the top of the next page and
span both columns.
"""

import html, pathlib, re, sys
from reportlab.lib.pagesizes import letter
from reportlab.lib.units import inch
from reportlab.lib.enums import TA_JUSTIFY, TA_CENTER, TA_LEFT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib import colors
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    BaseDocTemplate,
    PageTemplate,
    Frame,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
    FrameBreak,
    KeepTogether,
    Flowable,
    NextPageTemplate,
    CondPageBreak,
)

ROOT = pathlib.Path(__file__).resolve().parent
LIB = "/usr/share/fonts/truetype/liberation/"
DJV = "/usr/share/fonts/truetype/dejavu/"
pdfmetrics.registerFont(TTFont("Serif", LIB + "LiberationSerif-Regular.ttf"))
pdfmetrics.registerFont(TTFont("Serif-Bold", LIB + "LiberationSerif-Bold.ttf"))
pdfmetrics.registerFont(TTFont("Serif-Italic", LIB + "LiberationSerif-Italic.ttf"))
pdfmetrics.registerFont(TTFont("Serif-BoldItalic", LIB + "LiberationSerif-BoldItalic.ttf"))
pdfmetrics.registerFont(TTFont("DejaVuSerif", DJV + "DejaVuSerif.ttf"))
pdfmetrics.registerFont(TTFont("DejaVuSans", DJV + "DejaVuSans.ttf"))
from reportlab.pdfbase.pdfmetrics import registerFontFamily

registerFontFamily("Serif", normal="Serif", bold="Serif-Bold", italic="Serif-Italic", boldItalic="Serif-BoldItalic")
_CMAP = {n: set(map(chr, pdfmetrics.getFont(n).face.charToGlyph)) for n in ("Serif", "DejaVuSerif", "DejaVuSans")}

PAGE_W, PAGE_H = letter
MARGIN = 0.75 * inch
GUTTER = 0.25 * inch
TEXT_W = PAGE_W - 2 * MARGIN
COL_W = (TEXT_W - GUTTER) / 2
TOP, BOTTOM = PAGE_H - MARGIN, MARGIN

# Hyphenation: soft hyphens (U+00AD) are inserted with pyphen (en_US) into every word of 6+
# letters (see shy() below); reportlab breaks lines at them and draws a hyphen there
# (embeddedHyphenation=1).  Words that already contain a hyphen are only split by pyphen
# inside their parts, so no "multi- -band" artefacts appear.
import pyphen

_DIC = pyphen.Pyphen(lang="en_US")
HY = dict(embeddedHyphenation=1)


def para(text, style):
    """Paragraph; for text with inline markup (several fragments) reportlab's split at an
    existing hyphen can drop the hyphen, so there only soft hyphens are used as break points."""
    if "<" in text:
        style = ParagraphStyle(style.name + "-frag", parent=style, embeddedHyphenation=0)
    return Paragraph(text, style)


def shy(s):
    """Insert soft hyphens into the text (not the tags) of a reportlab markup string."""
    parts = re.split(r"(<[^>]+>)", s)
    for i in range(0, len(parts), 2):
        parts[i] = re.sub(
            r"(?<![A-Za-z-])[A-Za-z]{6,}(?![A-Za-z-])", lambda m: _DIC.inserted(m.group(0), hyphen="\u00ad"), parts[i]
        )
    return "".join(parts)


body = ParagraphStyle(
    "body", fontName="Serif", fontSize=9.5, leading=11.4, alignment=TA_JUSTIFY, firstLineIndent=10, spaceAfter=2, **HY
)
abstract = ParagraphStyle(
    "abs", parent=body, fontSize=9.5, leading=11.6, leftIndent=0.5 * inch, rightIndent=0.5 * inch, firstLineIndent=0
)
title_st = ParagraphStyle("title", fontName="Serif-Bold", fontSize=15, leading=18.5, alignment=TA_CENTER, spaceAfter=6)
author_st = ParagraphStyle(
    "author", fontName="Serif-Italic", fontSize=10, leading=12, alignment=TA_CENTER, spaceAfter=8
)
abs_head = ParagraphStyle(
    "abshead", fontName="Serif-Bold", fontSize=10.5, leading=13, alignment=TA_CENTER, spaceAfter=3
)
h1 = ParagraphStyle(
    "h1", keepWithNext=1, fontName="Serif-Bold", fontSize=11, leading=13, spaceBefore=8, spaceAfter=4, alignment=TA_LEFT
)
h2 = ParagraphStyle("h2", keepWithNext=1, fontName="Serif-Bold", fontSize=9.8, leading=12, spaceBefore=6, spaceAfter=3)
h3 = ParagraphStyle(
    "h3", keepWithNext=1, fontName="Serif-BoldItalic", fontSize=9.5, leading=11.5, spaceBefore=4, spaceAfter=2
)
caption = ParagraphStyle(
    "cap", fontName="Serif", fontSize=8.3, leading=9.8, alignment=TA_JUSTIFY, spaceBefore=4, spaceAfter=3, **HY
)
math_st = ParagraphStyle(
    "math", fontName="Serif-Italic", fontSize=9, leading=11, alignment=TA_CENTER, spaceBefore=3, spaceAfter=3
)
ref_st = ParagraphStyle("ref", parent=body, fontSize=8.2, leading=9.6, firstLineIndent=0, leftIndent=8, spaceAfter=1)
NUM_RE = re.compile(r"^[\s\-−–+±~<>≤≥$.,%()×0-9eE⁻⁰¹²³⁴⁵⁶⁷⁸⁹·*/]+$")


def fallback_fonts(s):
    """Wrap characters missing from the body font in a DejaVu <font> tag (outside markup)."""
    out, in_tag = [], False
    for ch in s:
        if ch == "<":
            in_tag = True
        if in_tag or ch in _CMAP["Serif"] or ch in "\n\t":
            out.append(ch)
        elif ch in _CMAP["DejaVuSerif"]:
            out.append(f'<font name="DejaVuSerif">{ch}</font>')
        elif ch in _CMAP["DejaVuSans"]:
            out.append(f'<font name="DejaVuSans">{ch}</font>')
        else:
            out.append("\x00")
        if ch == ">":
            in_tag = False
    # glyphs missing from every font (e.g. CJK examples in the seed paper): one marker per run
    return re.sub(r"\x00+", " [non-Latin text] ", "".join(out))


def latexish(s):
    """Very rough plain-text rendering of LaTeX math (for the seed paper)."""
    rep = {
        r"\mathcal": "",
        r"\mathbf": "",
        r"\mathrm": "",
        r"\text": "",
        r"\sum": "Σ",
        r"\log": "log",
        r"\frac": "",
        r"\theta": "θ",
        r"\alpha": "α",
        r"\beta": "β",
        r"\quad": " ",
        r"\left": "",
        r"\right": "",
        r"\cdot": "·",
        r"\times": "×",
        r"\in": "∈",
        r"\leq": "≤",
        r"\geq": "≥",
        r"\lambda": "λ",
        r"\tau": "τ",
        r"\sigma": "σ",
        r"\exp": "exp",
        r"\cos": "cos",
        r"\max": "max",
        r"\min": "min",
        r"\operatorname": "",
        r"\,": " ",
        r"\;": " ",
        r"\!": "",
    }
    for k in sorted(rep, key=len, reverse=True):
        s = s.replace(k, rep[k])
    s = re.sub(r"\\[a-zA-Z]+", "", s)
    s = s.replace("{", "").replace("}", "").replace("^", "").replace("_", "")
    return s


def inline(s):
    """Markdown inline markup -> reportlab paragraph markup."""
    s = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", s)  # images
    s = re.sub(r"\[([^\]]*)\]\((#|http)[^)]*\)", r"\1", s)  # links -> text
    s = s.replace("\\(", "(").replace("\\)", ")").replace("\\[", "[").replace("\\]", "]")
    s = s.replace("\\_", "_").replace("\\*", "*").replace("\\#", "#").replace("\\&", "&")
    s = re.sub(r"\$\$?([^$]+)\$\$?", lambda m: latexish(m.group(1)), s)
    s = html.escape(s, quote=False)
    s = re.sub(r"&lt;(/?)sup&gt;", lambda m: "</super>" if m.group(1) else "<super>", s)
    s = re.sub(r"&lt;(/?)sub&gt;", lambda m: "</sub>" if m.group(1) else "<sub>", s)
    s = re.sub(r"&lt;/?[a-zA-Z][^&]*?&gt;", "", s)  # other html tags
    s = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", s)
    s = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<i>\1</i>", s)
    s = re.sub(r"(?<![\w])_(?!\s)([^_]+?)(?<!\s)_(?![\w])", r"<i>\1</i>", s)
    s = s.replace("\\", "")
    return fallback_fonts(s)


class FloatMarker(Flowable):
    """Zero-size flowable: queues a wide table for the top of the next page."""

    def __init__(self, key):
        super().__init__()
        self.key = key

    def wrap(self, aw, ah):
        return (0, 0)

    def draw(self):
        doc = self.canv._doctemplate
        if self.key in doc.float_done or self.key in doc.float_queue:
            return
        doc.float_queue.append(self.key)
        if len(doc.float_queue) == 1:
            doc.handle_nextPageTemplate(self.key)


class PaperDoc(BaseDocTemplate):
    def __init__(self, path, header_h, floats, running):
        super().__init__(
            str(path),
            pagesize=letter,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN,
            bottomMargin=MARGIN,
            title=running,
            author="Anonymous",
        )
        self.float_queue, self.float_done, self.floats, self.running = [], set(), floats, running
        x1, x2 = MARGIN, MARGIN + COL_W + GUTTER
        hh = header_h + 10
        first = [
            Frame(
                MARGIN, TOP - hh, TEXT_W, hh, id="head", leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0
            ),
            Frame(
                x1,
                BOTTOM,
                COL_W,
                TOP - hh - BOTTOM - 4,
                id="c1f",
                leftPadding=0,
                rightPadding=0,
                topPadding=0,
                bottomPadding=0,
            ),
            Frame(
                x2,
                BOTTOM,
                COL_W,
                TOP - hh - BOTTOM - 4,
                id="c2f",
                leftPadding=0,
                rightPadding=0,
                topPadding=0,
                bottomPadding=0,
            ),
        ]

        def cols(h):
            return [
                Frame(x, BOTTOM, COL_W, TOP - BOTTOM - h, leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
                for x in (x1, x2)
            ]

        tpls = [
            PageTemplate("first", first, onPage=self.deco, autoNextPageTemplate="later"),
            PageTemplate("later", cols(0), onPage=self.deco),
        ]
        for key, (fl, h) in floats.items():
            tpls.append(PageTemplate(key, cols(h + 12), onPage=self.draw_float, autoNextPageTemplate="later"))
        self.addPageTemplates(tpls)

    def deco(self, canv, doc):
        canv.saveState()
        canv.setFont("Serif", 8)
        canv.drawCentredString(PAGE_W / 2, MARGIN / 2, str(doc.page))
        if doc.page > 1:
            canv.setFont("Serif-Italic", 7.5)
            canv.drawCentredString(PAGE_W / 2, PAGE_H - MARGIN / 2, self.running)
        canv.restoreState()

    def draw_float(self, canv, doc):
        self.deco(canv, doc)
        key = self.float_queue.pop(0)
        fl, h = self.floats[key]
        y = TOP
        for f in fl:
            w, fh = f.wrapOn(canv, TEXT_W, h)
            y -= f.getSpaceBefore() + fh
            f.drawOn(canv, MARGIN + (TEXT_W - w) / 2 if isinstance(f, Table) else MARGIN, y)
            y -= f.getSpaceAfter()
        self.float_done.add(key)
        if self.float_queue:
            self.handle_nextPageTemplate(self.float_queue[0])


def md_table(lines, avail, base=7.6):
    rows = [[c.strip() for c in l.strip().strip("|").split("|")] for l in lines]
    rows = [r for r in rows if not all(re.fullmatch(r":?-{2,}:?", c) for c in r if c)]
    n = max(len(r) for r in rows)
    rows = [r + [""] * (n - len(r)) for r in rows]
    for fs in (base, 7.2, 6.8, 6.4, 6.0, 5.6, 5.2):
        cst = ParagraphStyle("cell", fontName="Serif", fontSize=fs, leading=fs * 1.2)
        hst = ParagraphStyle("hcell", parent=cst, fontName="Serif-Bold")
        # natural widths, header cells may wrap onto two lines
        widths = []
        for j in range(n):
            w_body = (
                max(
                    pdfmetrics.stringWidth(re.sub(r"<[^>]+>", "", html.unescape(inline(r[j]))), "Serif", fs)
                    for r in rows[1:]
                )
                if len(rows) > 1
                else 0
            )
            hw = pdfmetrics.stringWidth(html.unescape(rows[0][j]), "Serif-Bold", fs)
            words = rows[0][j].split() or [""]
            longest = max(pdfmetrics.stringWidth(w, "Serif-Bold", fs) for w in words)
            widths.append(max(w_body, min(hw, max(longest, hw / 2 + 4))) + 6)
        if sum(widths) <= avail or fs <= 5.2:
            break
    used_fs = fs
    scale = min(1.0, avail / sum(widths))
    widths = [w * scale for w in widths]

    def align(j, txt):
        return "RIGHT" if j > 0 and NUM_RE.match(txt or "0") else "LEFT"

    data = []
    for i, r in enumerate(rows):
        st = hst if i == 0 else cst
        cells = []
        for j, c in enumerate(r):
            a = {"RIGHT": 2, "LEFT": 0}[
                align(j, c) if i else ("RIGHT" if j and all(NUM_RE.match(rr[j] or "0") for rr in rows[1:]) else "LEFT")
            ]
            cells.append(Paragraph(inline(c), ParagraphStyle("x", parent=st, alignment=a)))
        data.append(cells)
    t = Table(data, colWidths=widths, repeatRows=1, hAlign="CENTER")
    t.setStyle(
        TableStyle(
            [
                ("LINEABOVE", (0, 0), (-1, 0), 1.0, colors.black),
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
                ("LINEBELOW", (0, -1), (-1, -1), 1.0, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LEFTPADDING", (0, 0), (-1, -1), 2.5),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2.5),
                ("TOPPADDING", (0, 0), (-1, -1), 1.2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.6),
            ]
        )
    )
    return t, sum(widths), used_fs


def natural_width(lines):
    t, w, fs = md_table(lines, 10**6)
    return w


def parse(md):
    """Return (title, header_blocks, body_blocks); blocks are (kind, payload)."""
    lines = md.splitlines()
    lines = [l for l in lines if not re.fullmatch(r"\s*\*\*[\d\s]+\*\*\s*", l)]  # line-number artefacts
    blocks, i, para = [], 0, []

    def flush():
        if para:
            blocks.append(("p", " ".join(x.strip() for x in para)))
            para.clear()

    while i < len(lines):
        l = lines[i]
        s = l.strip()
        if not s:
            flush()
            i += 1
            continue
        if s.startswith("$$"):
            flush()
            buf = [s]
            while not (buf[-1].endswith("$$") and (len(buf) > 1 or len(s) > 2)) and i + 1 < len(lines):
                i += 1
                buf.append(lines[i].strip())
            blocks.append(("math", " ".join(buf).strip("$")))
            i += 1
            continue
        if s.startswith("#"):
            flush()
            m = re.match(r"(#+)\s*(.*)", s)
            blocks.append(("h", (len(m.group(1)), m.group(2).strip())))
            i += 1
            continue
        if s.startswith("|"):
            flush()
            buf = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                buf.append(lines[i])
                i += 1
            blocks.append(("table", buf))
            continue
        if re.match(r"^Table \d+[:.]", s):
            flush()
            blocks.append(("caption", s))
            i += 1
            continue
        if re.match(r"^!\[", s):
            flush()
            i += 1
            continue
        para.append(s)
        i += 1
    flush()
    # title = first level-1 heading
    title = next(p[1] for k, p in blocks if k == "h")
    ti = next(j for j, (k, p) in enumerate(blocks) if k == "h" and p[1] == title)

    def numbered(p):
        return re.match(r"^\d+(\.\d+)*\.?\s", p[1] + " ") is not None

    first_sec = next((j for j, (k, p) in enumerate(blocks) if j > ti and k == "h" and numbered(p)), len(blocks))
    return title, blocks[ti + 1 : first_sec], blocks[first_sec:]


def heading_style(text):
    m = re.match(r"^(\d+(?:\.\d+)*)\.?\s", text + " ")
    depth = m.group(1).count(".") + 1 if m else 1
    return {1: h1, 2: h2}.get(depth, h3)


def build(md_path, pdf_path):
    md = pathlib.Path(md_path).read_text(encoding="utf-8")
    title, head, rest = parse(md)

    def make_story(force_inline=()):
        hdr = [Paragraph(inline(title), title_st)]
        authors = None
        for k, p in head:
            if k == "p" and authors is None and len(p.split()) < 12 and "abstract" not in p.lower():
                authors = p
        hdr.append(Paragraph(inline(authors or "Anonymous authors · Paper under double-blind review"), author_st))
        for k, p in head:
            if k == "h":
                hdr.append(Paragraph("Abstract", abs_head))
            elif k == "p" and p != authors:
                hdr.append(para(shy(inline(p)), abstract))
        header_h = sum(f.wrap(TEXT_W, PAGE_H)[1] + f.getSpaceAfter() + f.getSpaceBefore() for f in hdr)
        story = list(hdr) + [FrameBreak()]
        floats, pending_caption, refs, tcount = {}, None, False, 0
        for k, p in rest:
            if k == "h":
                lvl, text = p
                text = (
                    re.sub(r"^(\d+)\s+", r"\1. ", text)
                    if re.match(r"^\d+\s", text) and "." not in text.split()[0]
                    else text
                )
                st = heading_style(text)
                if text.isupper():
                    text = text.title().replace("And ", "and ").replace("Of ", "of ")
                refs = "reference" in text.lower() or "bibliograph" in text.lower()
                story += [CondPageBreak(70 if st is h1 else 45), Paragraph(inline(text), st)]
            elif k == "p":
                story.append(para(shy(inline(p)), ref_st if refs else body))
            elif k == "math":
                story.append(Paragraph(inline("$" + p + "$"), math_st))
            elif k == "caption":
                pending_caption = p
            elif k == "table":
                capflow = []
                if pending_caption:
                    m = re.match(r"^(Table \d+[:.])\s*(.*)", pending_caption)
                    capflow = [Paragraph(f"<b>{inline(m.group(1))}</b> {shy(inline(m.group(2)))}", caption)]
                    pending_caption = None
                t, w, fs = md_table(p, COL_W)
                tcount += 1
                key = f"float{tcount}"
                if (w <= COL_W * 1.01 and fs >= 6.4) or key in force_inline:
                    t, _, _ = md_table(p, COL_W)
                    story += [Spacer(1, 3), KeepTogether(capflow + [t]), Spacer(1, 5)]
                else:
                    t, w, _ = md_table(p, TEXT_W, base=7.8)
                    cap = (
                        [Paragraph(capflow[0].text, ParagraphStyle("wc", parent=caption, alignment=TA_LEFT))]
                        if capflow
                        else []
                    )
                    fl = cap + [Spacer(1, 2), t]
                    h = sum(f.wrap(TEXT_W, PAGE_H)[1] + f.getSpaceBefore() + f.getSpaceAfter() for f in cap + [t]) + 4
                    if h > (TOP - BOTTOM) * 0.8:  # too tall to float: keep it in the column
                        t, _, _ = md_table(p, COL_W)
                        story += [KeepTogether(capflow + [t])]
                        continue
                    floats[key] = (fl, h)
                    story.append(FloatMarker(key))
        if pending_caption:
            story.append(Paragraph(inline(pending_caption), caption))
        return story, floats, header_h

    running = re.sub(r"\s+", " ", title)
    if running.isupper():
        running = running.title()
    running = running if len(running) < 95 else running[:92] + "..."

    def make(force_inline=()):
        story, floats, header_h = make_story(force_inline)
        doc = PaperDoc(pdf_path, header_h, floats, running)
        s = list(story)
        doc.build(s)
        return doc

    doc, forced = make(), set()
    while doc.float_queue:  # a float was queued on the last page: put it in the column
        forced |= set(doc.float_queue)
        doc = make(forced)
    return doc.page


if __name__ == "__main__":
    if len(sys.argv) == 3:
        print(sys.argv[2], build(sys.argv[1], sys.argv[2]), "pages")
    else:
        jobs = [(p, p.with_suffix(".pdf")) for p in sorted((ROOT / "papers").glob("*.md"))]
        jobs.append(
            (ROOT.parents[2] / ".." / "shared" / "papers" / "2408.10536-openreview.md", ROOT / "papers" / "seed-2408.10536.pdf")
        )
        for src, out in jobs:
            print(out.name, build(src, out), "pages")
