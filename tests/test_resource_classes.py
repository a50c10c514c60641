"""The Joshi et al. (2020) class table against the committed copy of the paper's taxonomy list."""

from __future__ import annotations

import collections
import hashlib
from pathlib import Path

from repro.data.resource_classes import LANG2TAX_PATH, LANGUAGES, lang2tax_mismatches, read_lang2tax, resource_class

# The copy's SHA-256 (its source is named in resource_classes.yaml).
LANG2TAX_SHA256 = "2e182e8f4bd9adb0bc04af2f74852d770581ac0b5a3609224ced7b08266d6dd2"


def test_committed_list_is_the_published_one() -> None:
    assert hashlib.sha256(LANG2TAX_PATH.read_bytes()).hexdigest() == LANG2TAX_SHA256
    # Joshi et al. (2020), Table 1: languages per class 0-5.
    counts = collections.Counter(c for classes in read_lang2tax().values() for c in classes)
    assert [counts[c] for c in range(6)] == [2191, 222, 19, 28, 18, 7]


def test_every_entry_has_its_class_from_the_list() -> None:
    assert lang2tax_mismatches() == []


def test_a_wrong_class_or_name_is_reported(tmp_path: Path) -> None:
    text = LANG2TAX_PATH.read_text(encoding="utf-8")
    assert "\nthai,3\n" in text and "\nawadhi,0\n" in text
    bad = tmp_path / "lang2tax.txt"
    bad.write_text(text.replace("\nthai,3\n", "\nthai,2\n").replace("\nawadhi,0\n", "\n"), encoding="utf-8")
    assert sorted(lang2tax_mismatches(bad)) == [
        "awa: no line 'awadhi' in lang2tax.txt",
        "th: class 3 here, 2 in lang2tax.txt ('thai')",
    ]


def test_tatoeba_languages_span_every_class(mirror: Path) -> None:
    # The low-resource sweep needs >= 30 Tatoeba languages over classes 0-5, >= 3 in each of 0, 1, 2.
    files = {p.name.split(".")[1].split("-")[0] for p in (mirror / "tatoeba").glob("tatoeba.*-eng.*")}
    tatoeba = {lang.tatoeba: lang.joshi_class for lang in LANGUAGES.values() if lang.tatoeba in files}
    per_class = collections.Counter(tatoeba.values())
    assert len(tatoeba) >= 30
    assert set(per_class) == set(range(6))
    assert min(per_class[c] for c in (0, 1, 2)) >= 3
    assert resource_class("awa") == 0 and resource_class("xho") == 2 and resource_class("cym") == 1
