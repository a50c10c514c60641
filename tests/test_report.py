"""`repro report`: the HTML and Markdown reports of a verdicts file, escaping, the CLI, a real browser.

The verdicts file is built in code (every verdict, figures of both kinds, paper numbers, a sweep,
provenance) so these tests need neither data nor a verify run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import require, require_module
from markupsafe import escape

from repro.checks.base import CheckResult, Figure, Table, Verdict
from repro.claims.registry import Paper, Reported, Source, Synthesis
from repro.claims.verdicts import ClaimVerdict, ExperimentRecord, QuestionAnswer, VerdictsFile, verdicts_path
from repro.report.build import find_verdicts, write_reports
from repro.report.html import render_html
from repro.report.markdown import md_escape, render_markdown

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

EVIL = 'Bold <b>claim</b> <script>window.__pwned = 1; alert("x")</script> <img src=x onerror="window.__pwned = 2">'
EVIL_HEADLINE = '<img src=y onerror="window.__pwned = 3"> & <a href="https://evil.example/">link</a> $x$'
EVIL_CELL = "<script>window.__pwned = 4</script>"

# What a reader sees for each verdict: the badge's background colour (computed style).
BADGE_COLOURS = {
    "reproduced": "rgb(26, 127, 55)",
    "partially reproduced": "rgb(240, 160, 0)",
    "not reproduced": "rgb(207, 34, 46)",
    "inconclusive": "rgb(110, 119, 129)",
    "not checked": "rgba(0, 0, 0, 0)",
    "error": "rgb(110, 11, 20)",
}


def _lines_figure(title: str = "xquad-r Mul mAP per language vs alpha") -> Figure:
    xs = [0.0, 0.25, 0.5, 0.75, 1.0]
    return Figure(
        title=title,
        kind="lines",
        x_label="alpha",
        y_label="Mul mAP",
        x=xs,
        series={
            "el (unseen)": [0.41, 0.43, 0.45, 0.44, 0.40],
            "hi (low)": [0.50, 0.52, None, 0.55, 0.51],
            "en (high)": [0.70, 0.71, 0.72, 0.72, 0.73],
        },
        note="dashed: low-resource",
    )


def _bars_figure() -> Figure:
    return Figure(
        title="xquad-r rank distance per arm",
        kind="bars",
        y_label="rank distance",
        x=["hybrid", "mono", "xy"],
        series={"rank distance": [286.6, 410.2, 300.1]},
    )


def _check(
    verdict: Verdict,
    headline: str = "a headline",
    figures: list[Figure] | None = None,
    cells: list[list[object]] | None = None,
) -> CheckResult:
    return CheckResult(
        kind="comparison",
        label=f"check giving {verdict.value}",
        verdict=verdict,
        confidence=0.9,
        headline=headline,
        details={"a_value": 0.59, "note": "<b>not bold</b>"},
        tables=[
            Table(
                title="per arm",
                columns=["arm", "value", "P"],
                rows=cells or [["mono", 0.547, 0.99], ["xy", None, True]],
            )
        ],
        figures=figures or [],
        seconds=1.25,
    )


def sample_verdicts(registry_path: str = "claims/none.yaml") -> VerdictsFile:
    """One claim per verdict (the first with hostile text everywhere), a research question, a sweep."""
    claims = [
        ClaimVerdict(
            id="C1",
            text=EVIL,
            source=Source(
                arxiv="2408.10536",
                section="3 <i>Method</i>",
                page=4,
                quote='"<script>alert(1)</script>" said the paper',
            ),
            synthesis=Synthesis(verified=True, confidence=0.4),
            evidence=["experiment"],
            reported=[
                Reported(
                    what="XQuAD-R Mul mAP, hybrid",
                    value=0.593,
                    backbone="XLM-R",
                    arm="base",
                    task="xquad-r",
                    metric="Mul mAP",
                    where="Table 1",
                ),
                Reported(what="MLQA-R <b>Mul</b> mAP", value=0.512),
            ],
            verdict=Verdict.REPRODUCED,
            confidence=0.97,
            decided_by=EVIL_HEADLINE,
            checks=[
                _check(
                    Verdict.REPRODUCED,
                    EVIL_HEADLINE,
                    [_bars_figure()],
                    cells=[[EVIL_CELL, 0.5, "x|y"], ["<img src=z onerror=alert(5)>", 1, 2]],
                )
            ],
        ),
        ClaimVerdict(
            id="C2",
            text="Hybrid batches reduce language bias.",
            synthesis=Synthesis(verified=False, confidence=0.1),
            verdict=Verdict.PARTIAL,
            confidence=0.6,
            decided_by="rank distance 286.6 vs 410.2",
            checks=[_check(Verdict.PARTIAL, figures=[_lines_figure()])],
        ),
        ClaimVerdict(
            id="C3",
            text="Evaluation data is distinct from training data.",
            verdict=Verdict.NOT_REPRODUCED,
            confidence=0.02,
            decided_by="12 % of test questions occur in training",
            checks=[_check(Verdict.NOT_REPRODUCED)],
        ),
        ClaimVerdict(
            id="C4",
            text="The approach works in every language.",
            verdict=Verdict.INCONCLUSIVE,
            confidence=0.5,
            decided_by="P = 0.50",
            checks=[_check(Verdict.INCONCLUSIVE)],
        ),
        ClaimVerdict(id="C5", text="Not linked to any check.", verdict=Verdict.NOT_CHECKED, decided_by="no checks"),
        ClaimVerdict(
            id="C6",
            text="A check crashed.",
            verdict=Verdict.ERROR,
            decided_by="KeyError: 'mAP'",
            checks=[CheckResult(kind="trend", label="", verdict=Verdict.ERROR, headline="KeyError: 'mAP'")],
        ),
    ]
    rq = QuestionAnswer(
        id="RQ",
        text="How do low-resource languages fare as alpha varies?",
        answer="Low-resource languages gain +0.0312 (95% CI +0.01 to +0.05) more than high-resource ones.",
        checks=[
            CheckResult(
                kind="trend",
                label="Mul mAP vs alpha",
                verdict=Verdict.REPRODUCED,
                confidence=0.96,
                headline="gain at 0.5: low +0.03, high +0.00",
                figures=[_lines_figure("rq curve"), _bars_figure(), Figure(title="empty figure")],
            )
        ],
    )
    summary = {
        "experiment": "hybrid-sweep",
        "profile": "quick",
        "groups": {"base": {}, "alpha=0.0": {"alpha": 0.0}, "alpha=1.0": {"alpha": 1.0}},
        "rows": {
            "base": {
                "xquad-r Mul mAP": {"mean": 0.61, "std": 0.0, "n": 1},
                "xquad-r Mul mAP [el]": {"mean": 0.5, "std": 0.0, "n": 1},
            },
            "alpha=0.0": {
                "xquad-r Mul mAP": {"mean": 0.63, "std": 0.01, "n": 3},
                "xquad-r rank distance": {"mean": 301.5, "std": 4.2, "n": 3},
            },
            "alpha=1.0": {"xquad-r Mul mAP": {"mean": 0.6, "std": 0.02, "n": 3}},
        },
    }
    return VerdictsFile(
        registry="hybrid",
        registry_path=registry_path,
        profile="quick",
        created="2026-07-07T12:00:00+00:00",
        paper=Paper(arxiv="2408.10536", title="Hybrid <em>batches</em>", authors=["A. Author"]),
        claims=claims,
        research_question=rq,
        experiments=[
            ExperimentRecord(
                name="sweep",
                path="experiments/hybrid-sweep.yaml",
                profile="quick",
                results_dir="results/hybrid-sweep/quick",
                summary=summary,
                computed_steps=2,
                cached_steps=13,
                seconds=42.0,
            )
        ],
        provenance={
            "git": {"commit": "0123456789abcdef", "dirty": True},
            "packages": {"torch": "2.13.0", "numpy": None},
            "python": "3.11.2",
            "experiments": {
                "sweep": {
                    "seeds": [0, 1, 2],
                    "data_checksums": {"xquad/en.json": "ab" * 32},
                    "model_weights_sha256": {"alpha=0.0,seed=0": "cd" * 32},
                    "train_seconds": 120.5,
                    "eval_seconds": 30.0,
                }
            },
        },
        seconds=55.5,
    )


# ---------------------------------------------------------------- escaping and content
def test_untrusted_text_is_escaped_in_the_html_source() -> None:
    page = render_html(sample_verdicts())
    # The only markup is ours: no script element, no event handler, no link out of the page.
    assert "<script" not in page.lower()
    assert not re.search(r"<[^>]+\son\w+\s*=", page, re.I)
    assert "<b>claim</b>" not in page and "<em>batches</em>" not in page and "<i>Method</i>" not in page
    assert str(escape(EVIL)) in page and str(escape(EVIL_HEADLINE)) in page
    assert "&lt;script&gt;window.__pwned = 4&lt;/script&gt;" in page
    assert not re.search(r'(src|href)\s*=\s*"(?!data:|#)', page), "every src/href is inline data or an anchor"


def test_html_is_self_contained_with_every_section() -> None:
    page = render_html(sample_verdicts())
    for section in ('id="summary"', 'id="research-question"', 'id="claims"', 'id="sweep"', 'id="provenance"'):
        assert section in page
    # 1 bars figure (C1) + 1 lines figure (C2) + 2 in the research question; the empty one is text.
    assert page.count('src="data:image/png;base64,') == 4
    assert "empty figure: no data to draw." in page
    assert "<link" not in page and "@import" not in page and "url(" not in page
    for text in (
        "0123456789abcdef (uncommitted changes)",
        "ab" * 32,
        "cd" * 32,
        "0, 1, 2",
        "120.5 s",
        "2.13.0",
        "0.6300 ± 0.0100 (n=3)",
        "301.5 ± 4.2 (n=3)",
        "Low-resource languages gain +0.0312",
    ):
        assert text in page, text


def test_paper_numbers_sit_beside_ours() -> None:
    page = render_html(sample_verdicts())
    row = re.search(r"<tr><td>XQuAD-R Mul mAP, hybrid</td>.*?</tr>", page, re.S)
    assert row, "paper-vs-ours row missing"
    # Arm "base" matches the sweep's base group even without a loadable registry.
    assert "0.5930" in row.group(0) and "0.6100" in row.group(0)
    assert "MLQA-R &lt;b&gt;Mul&lt;/b&gt; mAP" in page  # no arm/task/metric: paper number only


def test_paper_arms_resolve_through_the_verdicts_arms() -> None:
    from repro.checks.arms import Arm

    vf = sample_verdicts()
    vf.arms = {
        "mono": Arm(experiment="sweep", point={"alpha": 1.0}),
        "xy": Arm(experiment="sweep", point={"alpha": 0.0}),
    }
    vf.claims[1].reported = [
        Reported(what="bias, mono", value=410.2, arm="mono", task="xquad-r", metric="Mul mAP"),
        Reported(what="bias, xy", value=300.0, arm="xy", task="xquad-r", metric="rank distance"),
        Reported(what="bias, el", value=1.0, arm="base", task="xquad-r", metric="Mul mAP", lang="el"),
    ]
    md = render_markdown(vf)
    assert "| bias, mono | – | – | 410.2 | 0.6000 ± 0.0200 (n=3) |" in md
    assert "| bias, xy | – | – | 300.0 | 301.5 ± 4.2 (n=3) |" in md
    # "base" is no arm of this registry, but it names a sweep group, and per-language metrics resolve.
    assert "| bias, el | – | – | 1.0000 | 0.5000 |" in md


def test_the_report_is_a_function_of_the_verdicts_file_alone(tmp_path: Path, monkeypatch) -> None:
    """The committed report renders the same from its verdicts file alone: with the registry, the
    experiment files and the results gone (another folder, a registry path that does not exist)."""
    root = Path(__file__).resolve().parents[1]
    source = root / "results" / "claims" / "hybrid" / "multiseed" / "verdicts.json"
    vf = VerdictsFile.load(source)
    before_md, before_html = render_markdown(vf), render_html(vf)
    moved = vf.model_copy(update={"registry_path": "gone/elsewhere.yaml"})
    monkeypatch.chdir(tmp_path)
    after_md = render_markdown(moved)
    assert after_md.replace("gone/elsewhere.yaml", vf.registry_path) == before_md
    assert render_html(moved).replace("gone/elsewhere.yaml", vf.registry_path) == before_html
    # What used to be read from the registry and experiment files is there: findings, ours beside
    # the paper's numbers (through the arms), the paper's settings, the draw, the class table.
    assert vf.findings and vf.arms and vf.paper.settings
    assert "## Findings" in after_md or "Findings" in after_md
    assert all(f.message.split()[0] in after_md for f in vf.findings)
    assert "seeded random draw" in after_md
    assert "checked entry by entry" in after_md
    ours = [r for c in vf.claims for r in c.reported if r.arm in vf.arms and r.task]
    assert ours and "± " in after_md


def test_report_survives_a_minimal_verdicts_file(tmp_path: Path) -> None:
    vf = VerdictsFile(
        registry="r",
        registry_path="nowhere.yaml",
        profile="quick",
        created="now",
        claims=[ClaimVerdict(id="X", text="t", verdict=Verdict.NOT_CHECKED, decided_by="")],
    )
    page, md = render_html(vf), render_markdown(vf)
    assert 'id="research-question"' not in page and 'id="sweep"' not in page and "<img" not in page
    assert "| X | t | not checked |" in md and "Research question" not in md
    empty = vf.model_copy(update={"claims": []})
    assert "no claims in this verdicts file" in render_html(empty)


def test_markdown_has_the_same_content_as_tables() -> None:
    md = render_markdown(sample_verdicts())
    assert "<" not in md.replace("&lt;", ""), "no raw HTML reaches the Markdown"
    assert "&lt;script&gt;" in md and "onerror" in md  # shown as text, not markup
    for heading in (
        "## Summary",
        "## Research question (RQ)",
        "## Claims",
        "### C6: error",
        "## Sweep",
        "## Provenance",
    ):
        assert heading in md, heading
    assert "> **Answer:** Low-resource languages gain +0.0312" in md
    # Figures are small tables: a lines figure has one row per series over x, bars one row per label.
    assert "| alpha | 0 | 0.25 | 0.5 | 0.75 | 1 |" in md
    assert "| hi (low) | 0.5000 | 0.5200 | – | 0.5500 | 0.5100 |" in md
    assert "| mono | 410.2 |" in md
    # Every table row has as many cells as its header: untrusted "|" cannot add a column.
    assert "x\\|y" in md
    table_lines = [l for l in md.splitlines() if l.startswith("|")]
    assert table_lines and all(l.endswith("|") for l in table_lines)
    summary = [l for l in table_lines if l.startswith("| C")]
    assert [l.split(" | ")[2] for l in summary] == [v.value for v in Verdict]
    assert "| C2 | Hybrid batches reduce language bias. | partially reproduced | support 0.60 | ✗ 0.10 |" in md
    assert "\\$x\\$" in md  # no math rendering of untrusted text either


def test_md_escape_neutralises_markdown() -> None:
    out = md_escape("a\n# heading | [link](javascript:x) *em* <b>")
    assert "\n" not in out and "\\|" in out and "\\[link\\]" in out and "\\*em\\*" in out and "&lt;b&gt;" in out


def test_write_reports_and_find_the_newest(tmp_path: Path) -> None:
    root = tmp_path / "results"
    old = sample_verdicts().model_copy(update={"profile": "full"}).save(verdicts_path(root, "hybrid", "full"))
    os.utime(old, (time.time() - 100, time.time() - 100))
    new = sample_verdicts().save(verdicts_path(root, "hybrid", "quick"))
    assert find_verdicts(root) == new
    assert find_verdicts(root, profile="full") == old
    out = write_reports(new, tmp_path / "reports", ("html", "md"))
    assert [p.name for p in out] == ["hybrid-quick.html", "hybrid-quick.md"]
    html, md = (p.read_text(encoding="utf-8") for p in out)
    # The files are the rendering of the chosen verdicts (quick), not of the older ones (full).
    vf, vf_old = VerdictsFile.load(new), VerdictsFile.load(old)
    assert html == render_html(vf) and md == render_markdown(vf)
    assert html != render_html(vf_old) and md != render_markdown(vf_old)
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    for claim in vf.claims:
        assert claim.id in html and f"| {claim.id} |" in md


# ---------------------------------------------------------------- CLI
def repro(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "repro.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )


def test_cli_without_verdicts_is_one_line_exit_2(tmp_path: Path) -> None:
    r = repro("report", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and r.stderr.strip().count("\n") == 0
    assert "no verdicts" in r.stderr and "repro verify" in r.stderr
    r = repro("report", "--registry", "hybrid", "--profile", "full", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0
    assert "registry hybrid profile full" in r.stderr and "repro verify claims/hybrid.yaml --profile full" in r.stderr


def test_cli_writes_html_and_md(tmp_path: Path) -> None:
    sample_verdicts().save(verdicts_path(tmp_path / "results", "hybrid", "quick"))
    r = repro("report", "--html", "--md", "--out", "out", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["out/hybrid-quick.html", "out/hybrid-quick.md"]
    assert (tmp_path / "out/hybrid-quick.html").read_text().startswith("<!DOCTYPE html>")
    r = repro("report", cwd=tmp_path)  # default: HTML into reports/
    assert r.returncode == 0 and r.stdout.strip() == "reports/hybrid-quick.html"
    bad = tmp_path / "results/claims/broken/quick/verdicts.json"
    bad.parent.mkdir(parents=True)
    bad.write_text("{not json")
    r = repro("report", "--registry", "broken", cwd=tmp_path)
    assert r.returncode == 2 and "not a verdicts file" in r.stderr and r.stderr.strip().count("\n") == 0
    # The registry's file, as verify was given it, names the same verdicts as its name.
    (tmp_path / "claims").mkdir()
    (tmp_path / "claims" / "mine.yaml").write_text("name: hybrid\nclaims: []\n")
    r = repro("report", "--registry", "claims/mine.yaml", "--md", "--out", "out2", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.strip() == "out2/hybrid-quick.md", r.stderr


# ---------------------------------------------------------------- a real browser
@pytest.fixture(scope="module")
def browser():
    require(
        CHROMIUM.is_file() and CHROMEDRIVER.is_file(),
        f"Debian's chromium and chromium-driver ({CHROMIUM}, {CHROMEDRIVER})",
        "apt-get install chromium chromium-driver (.ci/run does)",
    )
    webdriver = require_module("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
    ):
        opts.add_argument(arg)
    # An explicit driver path means selenium-manager is never run (so it cannot download anything).
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
    try:
        yield driver
    finally:
        driver.quit()


def test_report_in_a_real_browser(browser, tmp_path: Path) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    path = tmp_path / "report.html"
    path.write_text(render_html(sample_verdicts()), encoding="utf-8")
    browser.get(path.as_uri())
    browser.execute_script("return document.readyState")  # waits for load

    # No alert and no script ran: the hostile claim text, headline and cells stayed text.
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018
    assert browser.execute_script("return window.__pwned === undefined")
    assert browser.find_elements(By.TAG_NAME, "script") == []
    assert browser.execute_script("return document.querySelectorAll('[onerror], [onload], [onclick]').length") == 0

    # The summary: one row per claim, the hostile text shown literally, badge text and colour per verdict.
    rows = browser.find_elements(By.CSS_SELECTOR, "#summary tr.claim-row")
    assert [r.get_attribute("data-claim") for r in rows] == ["C1", "C2", "C3", "C4", "C5", "C6"]
    first = rows[0].find_element(By.CSS_SELECTOR, "td.claim-text")
    assert first.text == EVIL.replace("  ", " ") and first.find_elements(By.CSS_SELECTOR, "*") == []

    def style(el, prop: str) -> str:
        return browser.execute_script("return getComputedStyle(arguments[0]).getPropertyValue(arguments[1])", el, prop)

    seen = []
    for row in rows:
        badge = row.find_element(By.CSS_SELECTOR, ".badge")
        assert badge.is_displayed()
        text = badge.text
        seen.append(text)
        assert style(badge, "background-color") == BADGE_COLOURS[text], text
        if text == "not checked":  # outlined rather than filled
            assert style(badge, "border-top-style") == "solid"
            assert style(badge, "border-top-color") not in ("rgba(0, 0, 0, 0)", "transparent")
    assert seen == [v.value for v in Verdict]
    synth = rows[0].find_elements(By.CSS_SELECTOR, "td")[4].text
    assert synth == "✓ 0.40"

    # Figures: every image decoded into pixels; all of them are inline data.
    images = browser.find_elements(By.TAG_NAME, "img")
    assert len(images) == 4
    for img in images:
        assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", img)
        assert img.get_attribute("src").startswith("data:image/png;base64,")

    # The research question section is visible, with its answer.
    rq = browser.find_element(By.ID, "research-question")
    assert rq.is_displayed() and rq.size["height"] > 100
    answer = browser.find_element(By.ID, "rq-answer")
    assert answer.is_displayed() and "Low-resource languages gain +0.0312" in answer.text

    # Nothing was fetched: every src/href in the document is inline data or a same-page anchor, and
    # the page recorded no resource loads.
    refs = browser.execute_script(
        "return Array.from(document.querySelectorAll('[src], [href]'))"
        ".map(e => e.getAttribute('src') || e.getAttribute('href'))"
    )
    assert refs and all(r.startswith(("data:", "#")) for r in refs), [
        r for r in refs if not r.startswith(("data:", "#"))
    ]
    fetched = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith('data:'))"
    )
    assert fetched == []
