"""Data: manifest, verified fetch, loaders, and counts checked against the mirror's README."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from repro.data import lareqa, tatoeba, tydi, xnli
from repro.data.fetch import fetch, status
from repro.data.manifest import get_dataset, manifest, verified_path
from repro.errors import ReproError
from repro.hashing import sha256_file


def _readme_row(mirror: Path, folder: str) -> str:
    for line in (mirror / "README.md").read_text().splitlines():
        if line.startswith(f"| {folder}"):
            return line
    raise AssertionError(f"README has no row for {folder}")


def _num(s: str) -> int:
    return int(s.replace(",", ""))


def test_manifest_matches_mirror_checksums(mirror: Path) -> None:
    # Every SHA256SUMS line of the mirror for a file we use is in the manifest with the same digest.
    sums: dict[str, str] = {}
    for f in mirror.glob("*/SHA256SUMS"):
        for line in f.read_text().splitlines():
            digest, rel = line.split(None, 1)
            sums[f"{f.parent.name}/{rel.strip()}"] = digest
    files = [f for ds in manifest().values() for f in ds.files]
    assert len(files) == 281
    for f in files:
        assert sums[f.path] == f.sha256, f.path
        assert f.url.startswith("https://") and re.search(r"/[0-9a-f]{40}/", f.url), f.url


def test_fetch_from_mirror_verifies_and_keeps(tmp_path: Path, mirror: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPRO_HOME", str(tmp_path / "home"))
    counts = fetch(["xquad-r"], source=mirror, progress=False)
    assert counts == {"fetched": 11, "kept": 0}
    assert all(s.state == "ok" for s in status(["xquad-r"]))
    # No temporary files are left behind.
    assert not list((tmp_path / "home").rglob("*.part"))
    assert fetch(["xquad-r"], source=mirror, progress=False) == {"fetched": 0, "kept": 11}


def test_corrupt_mirror_file_is_refused(tmp_path: Path, mirror: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPRO_HOME", str(tmp_path / "home"))
    bad = tmp_path / "mirror"
    shutil.copytree(mirror / "lareqa", bad / "lareqa")
    with open(bad / "lareqa/mlqa-r/de.json", "ab") as fh:
        fh.write(b" ")
    with pytest.raises(ReproError, match=r"checksum mismatch for lareqa/mlqa-r/de\.json"):
        fetch(["mlqa-r"], source=bad, progress=False)
    # The corrupt file never reaches the cache under its real name.
    assert not (tmp_path / "home/data/lareqa/mlqa-r/de.json").exists()


def test_missing_and_corrupt_cache_files_name_the_file(
    tmp_path: Path, mirror: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPRO_HOME", str(tmp_path / "home"))
    with pytest.raises(ReproError, match=r"lareqa/xquad-r/el\.json .*repro data fetch"):
        verified_path("lareqa/xquad-r/el.json")
    fetch(["xquad-r"], source=mirror, progress=False)
    target = tmp_path / "home/data/lareqa/xquad-r/el.json"
    target.write_bytes(target.read_bytes()[:-10])
    with pytest.raises(ReproError, match="corrupt"):
        verified_path("lareqa/xquad-r/el.json")
    assert [s.state for s in status(["xquad-r"])].count("corrupt") == 1


def test_mirror_without_file_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPRO_HOME", str(tmp_path / "home"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReproError, match="has no file"):
        fetch(["tydi-goldp"], source=tmp_path / "empty", progress=False)
    with pytest.raises(ReproError, match="unknown dataset 'nope'"):
        get_dataset("nope")


def test_xquad_r_counts_match_readme(mirror: Path, fetched: None) -> None:
    row = _readme_row(mirror, "lareqa/xquad-r/")
    langs = re.search(r"\(([a-z ]+)\)", row).group(1).split()
    per_lang = _num(re.search(r"([\d,]+) parallel questions each", row).group(1))
    assert tuple(langs) == lareqa.LANGUAGES["xquad-r"]
    ids = None
    for lang in langs:
        d = lareqa.load_lareqa("xquad-r", lang)
        assert len(d.questions) == per_lang
        # Fully parallel: the same question ids in every language.
        these = set(d.questions["parallel_id"])
        ids = these if ids is None else ids
        assert these == ids
        assert all(0 <= g[0] < len(d.candidates) for g in d.questions["gold"])


def test_mlqa_r_counts_match_readme(mirror: Path, fetched: None) -> None:
    row = _readme_row(mirror, "lareqa/mlqa-r/")
    q_lo, q_hi, c_lo, c_hi = (
        _num(x) for x in re.search(r"([\d,]+)-([\d,]+) questions and ([\d,]+)-([\d,]+) candidate", row).groups()
    )
    langs = re.search(r"\(([a-z ]+)\)", row).group(1).split()
    assert tuple(langs) == lareqa.LANGUAGES["mlqa-r"]
    nq = {l: len(lareqa.load_lareqa("mlqa-r", l).questions) for l in langs}
    nc = {l: len(lareqa.load_lareqa("mlqa-r", l).candidates) for l in langs}
    assert (min(nq.values()), max(nq.values())) == (q_lo, q_hi)
    assert (min(nc.values()), max(nc.values())) == (c_lo, c_hi)
    # Partly parallel, as the README says: every id exists in English; none in all 7 languages.
    en = set(lareqa.load_lareqa("mlqa-r", "en").questions["parallel_id"])
    others = [set(lareqa.load_lareqa("mlqa-r", l).questions["parallel_id"]) for l in langs if l != "en"]
    assert all(o <= en for o in others)
    assert not set.intersection(*others)
    assert len(lareqa.load_lareqa("mlqa-r", "ar").questions) == 517


def test_gold_sentence_contains_answer(fetched: None) -> None:
    # The answer-sentence rule must agree with the answer text for almost every question; the
    # rare misses are answers that span a sentence break in the upstream segmentation.
    for ds, langs in lareqa.LANGUAGES.items():
        for lang in langs:
            d = lareqa.load_lareqa(ds, lang)
            sents = d.candidates["sentence"]
            hits = sum(a in sents[g[0]] for a, g in zip(d.questions["answer"], d.questions["gold"]))
            assert hits / len(d.questions) > 0.97, (ds, lang, hits)


def test_tydi_counts_match_readme(mirror: Path, fetched: None) -> None:
    row = _readme_row(mirror, "tydiqa-goldp/")
    expected = {lang: _num(n) for lang, n in re.findall(r"\b([a-z]{2}) ([\d,]+)(?=[, ])", row)}
    assert set(expected) == set(tydi.LANGUAGES)
    for lang, n in expected.items():
        d = tydi.load_tydi_goldp(lang)
        assert len(d.questions) == n
        assert len(set(d.questions["id"])) == n
        assert len(set(d.passages["passage"])) == len(d.passages)


def test_tatoeba_languages_and_alignment(mirror: Path, fetched: None) -> None:
    row = _readme_row(mirror, "tatoeba/")
    assert len(tatoeba.languages()) == int(re.search(r"for (\d+) languages", row).group(1))
    listed = re.search(r"low-resource: ([^)]*)\)", row).group(1)
    pairs = re.findall(r"\b([a-z]{3}) (\d+)", listed)
    assert len(pairs) >= 4
    for lang, n in pairs:
        assert len(tatoeba.load_tatoeba(lang)) == int(n)
    d = tatoeba.load_tatoeba("deu")
    assert len(d) == 1000 and d["english"][0] and d["text"][0]


def test_xnli_is_parallel(fetched: None) -> None:
    for split, n in (("dev", 2490), ("test", 5010)):
        for lang in xnli.LANGUAGES:
            d = xnli.load_xnli(split, lang)
            assert len(d) == n
    assert set(xnli.load_xnli("dev", "en")["label"]) == {"entailment", "neutral", "contradiction"}


def test_bad_language_errors() -> None:
    with pytest.raises(ReproError, match="xquad-r has no language xx"):
        lareqa.check_languages("xquad-r", ["en", "xx"])
    with pytest.raises(ReproError, match="empty language list"):
        lareqa.check_languages("mlqa-r", [])
    with pytest.raises(ReproError, match="ISO 639-3"):
        tatoeba.check_languages(["de"])
    with pytest.raises(ReproError, match="tydi-goldp has no language"):
        tydi.check_languages(["zz"])


def test_sha256_file(tmp_path: Path) -> None:
    p = tmp_path / "x"
    p.write_bytes(b"abc")
    assert sha256_file(p) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_table_columns_rows_and_selection() -> None:
    from repro.data.table import Table

    t = Table.from_dict({"id": ["a", "b", "c"], "n": [1, 2, 3]})
    assert len(t) == 3 and t.column_names == ["id", "n"]
    assert t["id"] == ("a", "b", "c") and t[1] == {"id": "b", "n": 2}
    assert list(t) == [{"id": "a", "n": 1}, {"id": "b", "n": 2}, {"id": "c", "n": 3}]
    picked = t.select([2, 0])
    assert picked.to_dict() == {"id": ["c", "a"], "n": [3, 1]} and len(t) == 3
    copy = t.to_dict()
    copy["id"].append("d")  # a copy: the (cached) table is unchanged
    assert t["id"] == ("a", "b", "c")
    with pytest.raises(ValueError, match="differ in length"):
        Table.from_dict({"a": [1], "b": [1, 2]})
    with pytest.raises(KeyError, match="no column 'x'; columns: id, n"):
        t["x"]


def test_loaders_do_not_import_the_datasets_library(fetched) -> None:
    """Loading every evaluation set must not pay for importing ``datasets`` (about a second)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from repro.data import lareqa, tatoeba, tydi, xnli\n"
        "d = lareqa.load_lareqa('xquad-r', 'en'); t = tydi.load_tydi_goldp('sw')\n"
        "b = tatoeba.load_tatoeba('deu'); x = xnli.load_xnli('dev', 'de')\n"
        "print(len(d.questions), len(t.passages), len(b), len(x), 'datasets' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.split() == ["1190", "357", "1000", "2490", "False"]
