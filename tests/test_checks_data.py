"""Data checks: dataset facts (C3), training/evaluation contamination (C4, C5), the language table."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from repro.checks.base import ClaimRef, Verdict
from repro.checks.contamination import ContaminationCheck, containment, eval_text, find_overlap, units
from repro.checks.context import CheckContext
from repro.checks.dataset_facts import DatasetFactsCheck
from repro.claims.registry import Registry, load_registry
from repro.data.resource_classes import LANGUAGES, resource_class, resource_group
from repro.errors import ReproError
from repro.evaluation.tasks import get_task

NGRAM = {"word": 8, "han": 12, "abugida": 24}


CLAIM = ClaimRef(id="C", text="a data claim")


def _ctx(tmp_path: Path) -> CheckContext:
    return Registry(name="test").check_context(tmp_path / "claims.yaml", "quick", progress=False)


def _contained(eval_text_: str, training: list[str]) -> float:
    e = eval_text(eval_text_, NGRAM)
    return containment(e, find_overlap(training, [e]))[0]


# -- n-gram logic ---------------------------------------------------------------------------------


def test_exact_duplicate_ignores_case_punctuation_width_and_spacing() -> None:
    a = units("ＷＨＯ  founded the University of Chicago?!")
    b = units("who founded the university of chicago")
    assert a.exact == b.exact
    e = eval_text("ＷＨＯ  founded the University of Chicago?!", NGRAM)
    index = find_overlap(["unrelated", "who founded — the university of CHICAGO"], [e])
    assert index.exact == {e.units.exact: 1}


def test_shared_8gram_paraphrase_is_found_and_unrelated_text_is_not() -> None:
    question = "In what year did the quick brown fox jump over the lazy dog near the river?"
    paraphrase = "Nobody knows why the quick brown fox jump over the lazy dog near the river, they say."
    assert _contained(question, [paraphrase]) >= 0.5
    assert _contained(question, ["The committee approved the budget for next year without debate at all."]) == 0.0
    # One shared 8-gram out of many is overlap, but not a near-duplicate.
    long = "Scientists say the quick brown fox jump over the lazy dog and then many other unrelated things happen in the forest at night"
    assert 0 < _contained(long, [paraphrase]) < 0.5


def test_unspaced_scripts_use_characters() -> None:
    zh = "特斯拉在哪一年获得了美国公民身份并搬到纽约"
    th = "เทสลาได้รับสัญชาติอเมริกันในปีใดและย้ายไปอยู่ที่นิวยอร์ก"
    assert units(zh).mode == "han" and units(th).mode == "abugida"
    assert units("Tesla 在 1891 年获得了美国公民身份").mode == "han"  # mixed text goes by its dominant script
    assert _contained(zh, [f"据说{zh}，然后他工作了。"]) == 1.0
    assert _contained(th, [f"มีคนบอกว่า{th}แล้วเขาก็ทำงาน"]) == 1.0
    assert _contained(zh, ["今天天气很好，我们去公园散步吧，然后吃饭。"]) == 0.0
    # Common Thai phrases ("related to") are shorter than a 24-character n-gram: no overlap.
    assert _contained("อะไรที่เกี่ยวข้องกับแรงปกติในวิชาฟิสิกส์", ["ไม่มีส่วนเกี่ยวข้องกับบุคคลที่เกี่ยวข้องกับระบบกฎหมายเลย"]) == 0.0


def test_short_texts_are_compared_whole_or_only_exactly() -> None:
    six = "who designed the new city hall"  # 6 words >= 3/4 of 8: compared as one 6-gram
    assert eval_text(six, NGRAM).n == 6
    assert _contained(six, ["everybody asks who designed the new city hall in the end"]) == 1.0
    assert eval_text("A lot of fun.", NGRAM).n == 0  # too short: exact duplicates only
    assert _contained("A lot of fun.", ["Ah, fourth grade was a lot of fun."]) == 0.0


# -- the contamination check ------------------------------------------------------------------------


def _write_corpus(path: Path, pairs: list[tuple[str, str]]) -> None:
    path.write_text(
        "".join(
            json.dumps({"id": i, "language": "en", "query": q, "passage": p}) + "\n" for i, (q, p) in enumerate(pairs)
        ),
        encoding="utf-8",
    )


def test_contamination_finds_planted_overlap_and_caches(tmp_path: Path, fetched: None, monkeypatch) -> None:
    from repro.data.lareqa import load_lareqa

    monkeypatch.setattr("repro.checks.contamination.repro_home", lambda: tmp_path / "home")
    en = load_lareqa("xquad-r", "en")
    question, sentence = en.questions["question"][0], en.candidates["sentence"][5]
    corpus = tmp_path / "corpus.jsonl"
    _write_corpus(
        corpus,
        [
            (question.upper() + "!!", "An unrelated passage about cooking pasta at home."),
            ("A statement about the weather.", f"Reportedly, {sentence}"),
        ],
    )
    check = ContaminationCheck(kind="contamination", corpus=str(corpus), datasets=["xquad-r"])
    result = check.run(_ctx(tmp_path), CLAIM)
    assert result.verdict == Verdict.NOT_REPRODUCED and result.confidence is None
    per = result.details["per_set"]
    assert per["xquad-r/questions"]["exact"] >= 1
    assert per["xquad-r/passages"]["near"] >= 1 and per["xquad-r/passages"]["exact"] == 0
    assert "xquad-r questions: 1 exact duplicate(s)" in result.headline
    worst = result.tables[1].rows
    assert worst[0][3] == 1.0 and worst[0][4] == "exact"
    # The second run reads the cached result: computing again would fail here.
    monkeypatch.setattr(ContaminationCheck, "_compute", lambda self, corpus: pytest.fail("recomputed"))
    again = check.run(_ctx(tmp_path), CLAIM)
    assert again.details["cached"].startswith(str(tmp_path / "home" / "checks" / "contamination-"))
    assert again.headline == result.headline and again.tables == result.tables


def test_contamination_xnli_vs_mlqa_is_clean_and_finds_a_copy_planted_in_it(
    tmp_path: Path, fetched: None, monkeypatch
) -> None:
    # The real audit of our reproduction for one evaluation set (the other one takes as long again),
    # then the same audit on the real corpus with one MLQA-R question and one sentence planted in it:
    # a detector that finds nothing (or everything) fails the second half.
    from repro.training.corpus import Example, ParallelCorpus, save_jsonl_corpus, xnli_corpus

    monkeypatch.setattr("repro.checks.contamination.repro_home", lambda: tmp_path / "home")
    result = ContaminationCheck(kind="contamination", datasets=["mlqa-r"]).run(_ctx(tmp_path), CLAIM)
    assert result.verdict == Verdict.REPRODUCED, result.headline
    sides = get_task("mlqa-r").texts()
    per = result.details["per_set"]
    assert {k: v["texts"] for k, v in per.items()} == {f"mlqa-r/{s}": len(t) for s, t in sides.items()}
    assert result.details["exact_total"] == 0
    assert per["mlqa-r/questions"]["exact"] == per["mlqa-r/passages"]["exact"] == 0
    assert result.details["training_texts"] > 100_000
    assert "not the paper's" in result.details["scope"]

    question = next(t for lang, t in sides["questions"] if lang == "en" and len(t.split()) >= 8)
    sentence = next(t for lang, t in sides["passages"] if lang == "en" and len(t.split()) >= 20)
    xnli = xnli_corpus()
    planted = Example(
        id="planted",
        group="planted",
        texts={
            lang: (question.upper() + " ??", f"Reportedly, {sentence} So it was said.")
            if lang == "en"
            else (f"filler question {lang}", f"filler passage {lang}")
            for lang in xnli.languages
        },
    )
    path = tmp_path / "xnli-planted.jsonl"
    save_jsonl_corpus(ParallelCorpus([*xnli, planted], name="xnli+planted"), path)
    dirty = ContaminationCheck(kind="contamination", corpus=str(path), datasets=["mlqa-r"]).run(_ctx(tmp_path), CLAIM)
    got = dirty.details["per_set"]
    same_question = sum(units(t).exact == units(question).exact for _, t in sides["questions"])
    assert same_question >= 1
    assert got["mlqa-r/questions"]["exact"] == same_question
    assert got["mlqa-r/questions"]["near"] == per["mlqa-r/questions"]["near"] + same_question
    assert got["mlqa-r/passages"]["exact"] == 0  # inside a longer text: a near-duplicate, not an exact one
    assert got["mlqa-r/passages"]["near"] >= per["mlqa-r/passages"]["near"] + 1
    assert dirty.verdict == Verdict.NOT_REPRODUCED
    assert f"mlqa-r questions: {same_question} exact duplicate(s)" in dirty.headline
    examples = {(row[1], row[5]) for row in dirty.tables[1].rows if row[3] == 1.0}
    assert ("questions", question) in examples and any(side == "passages" for side, _ in examples)


# -- dataset facts ---------------------------------------------------------------------------------


def _readme_row(mirror: Path, folder: str) -> str:
    return next(line for line in (mirror / "README.md").read_text().splitlines() if line.startswith(f"| {folder}"))


def _n(s: str) -> int:
    return int(s.replace(",", ""))


def test_xquad_r_facts_match_the_mirror_readme(tmp_path: Path, mirror: Path, fetched: None) -> None:
    row = _readme_row(mirror, "lareqa/xquad-r/")
    m = re.search(r"(\d+) languages \(([a-z ]+)\), ([\d,]+) parallel questions each", row)
    assert m, row
    check = DatasetFactsCheck(
        kind="dataset",
        dataset="xquad-r",
        languages=m.group(2).split(),
        parallel=True,
        queries_per_language=_n(m.group(3)),
    )
    result = check.run(_ctx(tmp_path), CLAIM)
    assert result.verdict == Verdict.REPRODUCED, result.headline
    assert len(result.details["languages"]) == int(m.group(1))
    assert result.details["ids_in_all_languages"] == _n(m.group(3))
    assert [f["fact"] for f in result.details["facts"]] == [
        "languages",
        "parallel questions (full)",
        "parallel passages (full)",
        "questions per language",
    ]


def test_mlqa_r_is_partly_parallel_as_the_readme_says(tmp_path: Path, mirror: Path, fetched: None) -> None:
    row = _readme_row(mirror, "lareqa/mlqa-r/")
    m = re.search(r"(\d+) languages \(([a-z ]+)\), ([\d,]+)-([\d,]+) questions and ([\d,]+)-([\d,]+) candidate", row)
    assert m, row
    check = DatasetFactsCheck(
        kind="dataset",
        dataset="mlqa-r",
        languages=int(m.group(1)),
        parallel="partial",
        candidates_per_language=(_n(m.group(5)), _n(m.group(6))),
    )
    result = check.run(_ctx(tmp_path), CLAIM)
    assert result.verdict == Verdict.REPRODUCED, result.headline
    d = result.details
    assert (min(d["questions"].values()), max(d["questions"].values())) == (_n(m.group(3)), _n(m.group(4)))
    # README facts: ar has 517 ids, all shared with en; no id exists in all 7 languages.
    assert d["ids_in_all_languages"] == 0 and d["questions"]["ar"] == 517
    ar_row = next(r for r in result.tables[1].rows if r[0] == "ar")
    assert ar_row[4] == "100.0 %"
    assert set(map(int, d["ids_by_language_count"])) <= {2, 3, 4}  # en plus one to three others


def test_a_failing_fact_is_named_in_the_headline(tmp_path: Path, fetched: None) -> None:
    result = DatasetFactsCheck(kind="dataset", dataset="mlqa-r", languages=7, parallel=True).run(_ctx(tmp_path), CLAIM)
    assert result.verdict == Verdict.NOT_REPRODUCED
    assert "failing: parallel questions (full)" in result.headline and "0 of 1,148" in result.headline
    langs = get_task("mlqa-r").facts().languages
    assert result.details["failing"] == ["parallel questions (full)", "parallel passages (full)"]
    assert [(f["fact"], f["holds"]) for f in result.details["facts"]] == [
        ("languages", True),
        ("parallel questions (full)", False),
        ("parallel passages (full)", False),
    ]
    assert result.details["facts"][0]["observed"] == f"7 ({' '.join(langs)})"
    assert result.details["ids_in_all_languages"] == 0
    wrong_count = DatasetFactsCheck(kind="dataset", dataset="xquad-r", languages=12).run(_ctx(tmp_path), CLAIM)
    assert wrong_count.verdict == Verdict.NOT_REPRODUCED and "languages: expected 12 languages" in wrong_count.headline
    assert wrong_count.details["failing"] == ["languages"]
    assert len(get_task("xquad-r").facts().languages) == 11


def test_registry_entries_for_c3_c4_c5_validate(tmp_path: Path) -> None:
    exp = tmp_path / "exp.yaml"
    exp.write_text(
        "name: e\ntrain: {corpus: xnli}\ngrid: {alpha: [0.5]}\neval: {tasks: [xquad-r]}\nprofiles: {quick: {}}\n"
    )
    reg = tmp_path / "claims.yaml"
    reg.write_text(f"""
name: t
experiments: {{hybrid-sweep: {exp}}}
claims:
  - id: C3
    text: XQuAD-R and MLQA-R are parallel QA datasets in 11 and 7 languages.
    checks:
      - {{kind: dataset, dataset: xquad-r, languages: 11, parallel: full, queries_per_language: 1190}}
      - {{kind: dataset, dataset: mlqa-r, languages: 7, parallel: partial}}
  - id: C4
    text: Evaluation data is separate from training data.
    checks:
      - {{kind: contamination, experiment: hybrid-sweep, datasets: [xquad-r, mlqa-r]}}
""")
    registry = load_registry(reg)
    check = registry.claims[1].checks[0]
    assert isinstance(check, ContaminationCheck)
    ctx = registry.check_context(reg, "quick")
    assert check.validate_in(ctx) == [] and check.corpus_spec(ctx) == "xnli"
    bad = ContaminationCheck(kind="contamination", experiment="nope", datasets=["xquad-r"])
    assert bad.validate_in(ctx)


# -- the language table ----------------------------------------------------------------------------


def test_every_evaluation_and_training_language_has_a_class() -> None:
    from repro.data import lareqa, tydi, xnli

    needed = (
        set(lareqa.LANGUAGES["xquad-r"]) | set(lareqa.LANGUAGES["mlqa-r"]) | set(xnli.LANGUAGES) | set(tydi.LANGUAGES)
    )
    assert needed <= set(LANGUAGES), sorted(needed - set(LANGUAGES))
    for code, lang in LANGUAGES.items():
        assert 0 <= lang.joshi_class <= 5
        assert lang.resource == ("high" if lang.joshi_class >= 4 else "low"), code
        assert resource_group(code) == lang.resource and resource_class(code) == lang.joshi_class


def test_language_table_known_classes_and_codes() -> None:
    assert {c: resource_class(c) for c in ("en", "zh", "vi", "hi", "el", "th", "sw", "te")} == {
        "en": 5,
        "zh": 5,
        "vi": 4,
        "hi": 4,
        "el": 3,
        "th": 3,
        "sw": 2,
        "te": 1,
    }
    assert resource_group("el") == "low" and resource_group("tr") == "high"
    assert resource_class("swh") == 2 and resource_group("TEL") == "low"  # Tatoeba codes work too
    with pytest.raises(ReproError, match="no Joshi"):
        resource_class("xx")


def test_tatoeba_codes_exist_in_the_mirror(mirror: Path) -> None:
    # English is the other side of every pair, so it has no file of its own.
    files = {p.name.split(".")[1].split("-")[0] for p in (mirror / "tatoeba").glob("tatoeba.*-eng.*")} | {"eng"}
    missing = [lang.code for lang in LANGUAGES.values() if lang.tatoeba and lang.tatoeba not in files]
    assert not missing


def test_dataset_and_contamination_name_any_registered_task_with_a_did_you_mean(tmp_path: Path) -> None:
    from repro.checks.dataset_facts import DatasetFactsCheck

    ctx = _ctx(tmp_path)
    assert DatasetFactsCheck(kind="dataset", dataset="xquad-r").validate_in(ctx) == []
    assert DatasetFactsCheck(kind="dataset", dataset="xquad").validate_in(ctx) == [
        "unknown dataset 'xquad'" + " (did you mean xquad-r?); tasks with data facts: mlqa-r, xquad-r"
    ]
    # A task without data facts is named as such (tatoeba's data is checked by its own loader, not here).
    assert (
        "task tatoeba provides no data facts"
        in DatasetFactsCheck(kind="dataset", dataset="tatoeba").validate_in(ctx)[0]
    )
    problems = ContaminationCheck(kind="contamination", datasets=["mlqa", "tydi-goldp"]).validate_in(ctx)
    assert problems[0].startswith("unknown dataset 'mlqa' (did you mean mlqa-r?)")
    assert "task tydi-goldp provides no texts to audit" in problems[1]


def test_contamination_of_a_plug_in_task_is_keyed_by_its_texts(tmp_path: Path, monkeypatch) -> None:
    """A task outside the mirror's manifest is audited too; its cache key follows its texts, not a checksum."""
    from repro.evaluation.declarations import DECLARATIONS, Declaration
    from repro.evaluation.tasks import TASKS, Task, register_task

    monkeypatch.setattr("repro.checks.contamination.repro_home", lambda: tmp_path / "home")
    texts = {"questions": [("en", "Which optimiser converged fastest on the digits?")], "passages": []}
    decl = Declaration("toy-texts", "toy: a user's texts", (), ())
    register_task(Task("toy-texts", lambda **kw: None, lambda langs: ["en"], decl=decl, texts=lambda: texts))
    try:
        corpus = tmp_path / "corpus.jsonl"
        _write_corpus(corpus, [("which optimiser converged fastest on the digits", "A passage on pasta.")])
        check = ContaminationCheck(kind="contamination", corpus=str(corpus), datasets=["toy-texts"])
        first = check.run(_ctx(tmp_path), CLAIM)
        assert first.details["per_set"]["toy-texts/questions"]["exact"] == 1
        assert list(first.details["per_set"]) == ["toy-texts/questions"]  # no passages: no side to rate
        assert check.run(_ctx(tmp_path), CLAIM).details.get("cached")  # same texts: the cached audit
        texts["questions"] = [("en", "Something nobody trained on, about rivers and bridges.")]
        second = check.run(_ctx(tmp_path), CLAIM)  # other texts: a new audit, not the cached one
        assert "cached" not in second.details and second.details["per_set"]["toy-texts/questions"]["exact"] == 0
    finally:
        TASKS.pop("toy-texts", None)
        DECLARATIONS.pop("toy-texts", None)
