"""The command line as a user runs it: bad input is one line on stderr, exit code 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def repro(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "repro.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["eval", "--task", "nope"], "unknown task 'nope'; known tasks: xquad-r, mlqa-r, tatoeba, tydi-goldp"),
        (["eval", "--task", "xquad-r", "--langs", ","], "empty --langs"),
        (["eval", "--task", "xquad-r", "--langs", "en,xx"], "xquad-r has no language xx"),
        (["eval", "--task", "mlqa-r", "--langs", "el"], "mlqa-r has no language el"),
        (["eval", "--task", "xquad-r", "--model", "./no/such/folder"], "no/such/folder"),
        (["data", "fetch", "--from", "/no/such/mirror"], "mirror folder /no/such/mirror does not exist"),
        (["data", "fetch", "--dataset", "imagenet"], "unknown dataset 'imagenet'"),
        (["eval", "--task", "xquad-r", "--limit", "0"], "--limit"),
        (
            ["eval", "--task", "tydi-goldp", "--limit", "5", "--distractors", "x"],
            "Invalid value for '--distractors': must be a count >= 0 or 'all', got 'x'",
        ),
        (["eval", "--task", "xquad-r", "--limit", "5", "--distractors", "3"], "distractors apply to tydi-goldp only"),
    ],
)
def test_bad_input_is_one_line_exit_2(args: list[str], message: str) -> None:
    r = repro(*args)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert message in r.stderr
    # One line, ours or click's (usage errors are rewritten to one line naming --help), nothing else.
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    assert r.stdout == ""


def test_missing_data_is_named_before_any_model_loads(tmp_path: Path) -> None:
    r = repro("eval", "--task", "tydi-goldp", "--langs", "sw", env={"REPRO_HOME": str(tmp_path)})
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0
    assert "tydiqa-goldp/arabic_dev.json" in r.stderr and "repro data fetch" in r.stderr
    assert not (tmp_path / "eval").exists()


def _commands() -> list[tuple[str, ...]]:
    """Every command path of the CLI (``("eval",)``, ``("data", "fetch")``, ...), groups included."""
    import click

    from repro.cli import cli

    out: list[tuple[str, ...]] = []

    def walk(group: click.Group, path: tuple[str, ...]) -> None:
        for name, cmd in group.commands.items():
            out.append((*path, name))
            if isinstance(cmd, click.Group):
                walk(cmd, (*path, name))

    walk(cli, ())
    return out


@pytest.mark.parametrize("path", _commands(), ids=" ".join)
def test_help_shows_each_commands_own_usage_text_and_options(path: tuple[str, ...]) -> None:
    """``--help`` of every command: its usage line, its docstring's first sentence and each of its
    options with the first words of that option's help; the text is the command's own, not another's."""
    import click

    from repro.cli import cli

    cmd: click.Command = cli
    for name in path:
        cmd = cmd.commands[name]  # type: ignore[attr-defined]
    r = repro(*path, "--help")
    assert r.returncode == 0 and r.stderr == ""
    text = " ".join(r.stdout.split())  # click wraps lines: compare with whitespace collapsed
    assert text.startswith(f"Usage: repro {' '.join(path)} ")
    summary = " ".join((cmd.help or "").split("\n\n")[0].split())
    assert summary and summary in text
    for param in cmd.params:
        if not isinstance(param, click.Option) or param.hidden:
            continue
        assert any(opt in text for opt in param.opts), (param.opts, path)
        if param.help:
            first = " ".join(param.help.split()[:4])
            assert first in text, (first, path)
    # Another command's summary does not leak in (each --help is its own).
    others = [c for c in _commands() if c != path and c[: len(path)] != path and path[: len(c)] != c]
    for other in others:
        sub = cli
        for name in other:
            sub = sub.commands[name]  # type: ignore[attr-defined]
        other_summary = " ".join((sub.help or "").split("\n\n")[0].split())
        if other_summary and other_summary != summary:
            assert other_summary not in text, other


def test_eval_help_names_the_tasks_and_measures() -> None:
    r = repro("eval", "--help")
    assert r.returncode == 0
    text = " ".join(r.stdout.split())
    for word in ("xquad-r", "mlqa-r", "tatoeba", "tydi-goldp", "rank distance"):
        assert word in text


EXPERIMENT = """
name: {name}
train: {{model: e5-small, corpus: xnli, steps: 2, batch_size: 4}}
grid: {{alpha: [0.5], seed: [0]}}
eval: {{tasks: [xquad-r]}}
profiles: {profiles}
"""


def test_profile_choices_come_from_the_experiment_files(tmp_path: Path) -> None:
    (tmp_path / "one.yaml").write_text(EXPERIMENT.format(name="one", profiles="{small: {}, big: {}}"))
    (tmp_path / "two.yaml").write_text(EXPERIMENT.format(name="two", profiles="{big: {}, huge: {}}"))
    r = repro("run", str(tmp_path / "one.yaml"), "--profile", "quick", "--dry-run")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip() == f"error: unknown profile 'quick' for {tmp_path / 'one.yaml'}; known: small, big"
    # No --profile and no quick among several profiles: asked for by name, nothing runs.
    r = repro("run", str(tmp_path / "one.yaml"), "--dry-run")
    assert r.returncode == 2 and r.stdout == ""
    assert (
        r.stderr.strip()
        == f"error: {tmp_path / 'one.yaml'} has no profile 'quick'; choose one with --profile: small, big"
    )
    (tmp_path / "single.yaml").write_text(EXPERIMENT.format(name="single", profiles="{only: {}}"))
    r = repro("run", str(tmp_path / "single.yaml"), "--dry-run")
    assert r.returncode == 0 and "3 steps: 0 published" in r.stdout, r.stderr  # its only profile
    # A registry's choices: the profiles every one of its experiments defines.
    reg = tmp_path / "claims.yaml"
    reg.write_text("name: r\nexperiments: {one: one.yaml, two: two.yaml}\nclaims: [{id: C1, text: t}]\n")
    r = repro("verify", str(reg), "--profile", "small", "--no-run", "--results", str(tmp_path / "res"))
    assert r.returncode == 2
    assert r.stderr.strip() == f"error: unknown profile 'small' for {reg}; known: big"
    ok = repro("verify", str(reg), "--profile", "big", "--no-run", "--quiet", "--results", str(tmp_path / "res"))
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "res" / "claims" / "r" / "big" / "verdicts.json").is_file()


def test_default_profile_of_files_with_one_profile_or_none(tmp_path: Path) -> None:
    bare = tmp_path / "bare.yaml"
    bare.write_text(EXPERIMENT.format(name="bare", profiles="{}").replace("profiles: {}\n", ""))
    # A file without profiles is its own profile, "default"; --profile defaults to it.
    r = repro("run", str(bare), "--dry-run", "--results", str(tmp_path / "res"))
    assert r.returncode == 0, r.stderr
    assert "3 steps: 0 published, 0 cached, 3 to compute" in r.stdout
    r = repro("run", str(bare), "--profile", "quick", "--dry-run")
    assert r.returncode == 2 and r.stderr.strip() == f"error: unknown profile 'quick' for {bare}; known: default"
    # One profile: the default; several without quick: --profile is asked for by name.
    (tmp_path / "one.yaml").write_text(EXPERIMENT.format(name="one", profiles="{small: {}}"))
    assert repro("run", str(tmp_path / "one.yaml"), "--dry-run").returncode == 0
    (tmp_path / "two.yaml").write_text(EXPERIMENT.format(name="two", profiles="{small: {}, big: {}}"))
    r = repro("run", str(tmp_path / "two.yaml"), "--dry-run")
    assert r.returncode == 2 and r.stderr.strip() == (
        f"error: {tmp_path / 'two.yaml'} has no profile 'quick'; choose one with --profile: small, big"
    )
