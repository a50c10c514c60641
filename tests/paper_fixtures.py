"""A small synthetic paper (two columns, three pages, a table, a footnote, non-Latin text) for tests."""

from __future__ import annotations

from pathlib import Path

from repro.sources.synthetic import Paper, Paragraph, Section, TableSpec, write_paper

FILLER = (
    "The corpus was split into training and validation parts with a fixed random seed so that "
    "every run sees the same examples in the same order."
)
CLAIM = "Our hybrid batch training outperforms X-Y batching on XQuAD-R in multilingual retrieval mAP."
BACKGROUND = "Information retrieval across languages has a long history in natural language processing."
GREEK = "Η ανάκτηση πληροφοριών είναι σημαντική."
RUSSIAN = "Поиск информации на разных языках важен."
CHINESE = "跨语言信息检索非常重要。"
FOOTNOTE = "1 The validation set is held out from every training language."
TABLE_ROWS = [
    ["Model", "en", "de", "Avg"],
    ["X-Y", ".700", ".650", ".675"],
    ["Hybrid", ".710", ".670", ".635"],
]  # Avg .635 is wrong: the cells give .690


def make_paper(path: Path) -> Path:
    """Write the test paper to ``path``."""
    sections = [
        Section("1 Introduction", [Paragraph([BACKGROUND] + [FILLER] * 3), Paragraph([CLAIM, FILLER])]),
        Section("2 Method", [Paragraph([FILLER] * 6), Paragraph([FILLER] * 6)], footnote=FOOTNOTE),
        Section(
            "3 Results",
            [Paragraph(["Table 1 shows that hybrid batching achieves the best mAP on XQuAD-R."])],
            table=TableSpec("Table 1: mAP on XQuAD-R.", TABLE_ROWS),
        ),
        Section("3.1 Analysis", [Paragraph([FILLER] * 12) for _ in range(4)]),
        Section("4 Languages", [Paragraph([GREEK, RUSSIAN], font="china-s"), Paragraph([CHINESE], font="china-s")]),
    ]
    return write_paper(Paper("Hybrid Batches for Multilingual Retrieval", sections), path)
