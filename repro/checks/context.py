"""What a check can see while it runs: the experiments and arms, their published results, source documents.

The context is plain data handed down by the layer that read the registry (``repro.claims``):
experiment files by name, arms by name, the paper's mirrored text. Checks never see the
registry itself, so the evidence layer does not depend on the claims layer above it.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from repro.checks.arms import Arm
from repro.errors import ReproError, first_line
from repro.evaluation.result import TaskResult
from repro.integrity import check_record, read_json
from repro.lru import LRU

if TYPE_CHECKING:
    from repro.models.encoder import Encoder
    from repro.runner.experiment import Experiment
    from repro.sources.vocabulary import Vocabulary


def default_papers_dirs() -> list[Path]:
    """Where source texts are looked up: $REPRO_PAPERS (``:``-separated), then ../shared/papers."""
    dirs = [Path(p) for p in os.environ.get("REPRO_PAPERS", "").split(os.pathsep) if p]
    return dirs + [Path("../shared/papers")]


class ResultSet:
    """The published results of one experiment run at one profile (``results/<name>/<profile>``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def exists(self, label: str, task: str) -> bool:
        """Whether the grid point ``label`` has a result for ``task``."""
        return (self.root / label / f"{task}.json").is_file()

    def result(self, label: str, task: str, per_query: bool = False) -> TaskResult:
        """The result of ``task`` at grid point ``label`` (``base`` = untrained model), its hashes
        checked; with its per-query arrays (``setting/lang/measure``, ``setting/lang/ids``) when asked."""
        path = self.root / label / f"{task}.json"
        if not path.is_file():
            raise ReproError(f"missing result {path}; run `repro verify` (or `repro run`) for this profile first")
        arrays = None
        if per_query:
            npz = self.root / label / f"{task}.perquery.npz"
            if not npz.is_file():
                raise ReproError(f"missing per-query values {npz}")
            arrays = self._npz(npz)
        return TaskResult.from_record(self._json(path), arrays)

    def train(self, label: str) -> dict[str, Any]:
        """The training record of grid point ``label``."""
        return self._json(self.root / label / "train.json")

    def _json(self, path: Path) -> dict[str, Any]:
        return _read_json(path)

    def _npz(self, path: Path) -> dict[str, np.ndarray]:
        return _read_npz(path)


# Bounded: a long session reads many results; a verify of the multiseed sweep reads ~110 records.
_JSON: LRU[tuple[str, float], dict[str, Any]] = LRU(4096)
_NPZ: LRU[tuple[str, float], dict[str, np.ndarray]] = LRU(512)


def _read_json(path: Path) -> dict[str, Any]:
    """A published record, its hash checked before its numbers are used (a ReproError if it does not match)."""
    key = (str(path), path.stat().st_mtime)
    if key not in _JSON:
        record = read_json(path)
        if problems := check_record(record, path, files=()):
            raise ReproError(problems[0])
        _JSON[key] = record
    return _JSON[key]


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """Published per-query values, checked against the hash their record (``<task>.json`` beside) holds."""
    key = (str(path), path.stat().st_mtime)
    if key not in _NPZ:
        record_path = path.with_name(path.name.removesuffix(".perquery.npz") + ".json")
        if record_path.is_file() and (problems := check_record(_read_json(record_path), record_path, [path.name])):
            raise ReproError(problems[0])
        try:
            with np.load(path, allow_pickle=False) as z:
                _NPZ[key] = {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise ReproError(f"{path}: not a readable .npz (corrupt: {first_line(exc)})") from None
    return _NPZ[key]


@dataclass
class CheckContext:
    """Everything checks share during one ``repro verify``.

    ``experiments`` maps each experiment name to its YAML file (already resolved against the
    registry's folder); ``base_dir`` anchors relative source paths of text checks;
    ``paper_mirror`` / ``paper_arxiv`` name the paper's text in the papers mirror;
    ``results_root`` is where ``repro run`` publishes results (``results/`` by default).
    """

    profile: str
    experiments: dict[str, Path] = field(default_factory=dict)
    arms: dict[str, Arm] = field(default_factory=dict)
    base_dir: Path = Path(".")
    paper_mirror: str | None = None
    paper_arxiv: str | None = None
    results_root: Path = Path("results")
    papers_dirs: list[Path] = field(default_factory=default_papers_dirs)
    progress: bool = True
    vocabulary: Vocabulary | None = None  # the registry's (laid over the shared one); None = the shared one
    _experiments: dict[str, Experiment] = field(default_factory=dict, repr=False)

    # -- experiments and arms -------------------------------------------------------------------
    def experiment_path(self, name: str) -> Path:
        """The YAML file of the experiment ``name``."""
        if name not in self.experiments:
            raise ReproError(f"no experiment '{name}' in the registry; known: {', '.join(self.experiments) or 'none'}")
        return self.experiments[name]

    def experiment(self, name: str) -> Experiment:
        """The experiment ``name`` with this context's profile applied."""
        # Imported here: the runner pulls in torch, which registry validation and reports do not need.
        from repro.runner.experiment import load_experiment

        if name not in self._experiments:
            self._experiments[name] = load_experiment(self.experiment_path(name), self.profile)
        return self._experiments[name]

    def results(self, name: str) -> ResultSet:
        """Published results of experiment ``name`` at this profile."""
        return ResultSet(self.results_root / self.experiment(name).name / self.profile)

    def arm(self, name: str) -> Arm:
        """The arm ``name``."""
        if name not in self.arms:
            raise ReproError(f"no arm '{name}'; known: {', '.join(self.arms)}")
        return self.arms[name]

    def arm_points(self, name: str) -> list[tuple[str, dict[str, Any] | None]]:
        """(folder label, grid point) of every model in arm ``name``; the base model is ``("base", None)``."""
        from repro.runner.experiment import point_label

        arm = self.arm(name)
        if arm.point is None:
            return [("base", None)]
        exp = self.experiment(arm.experiment)
        return [(point_label(p), p) for p in exp.points() if arm.selects(p)]

    def arm_tasks(self, name: str) -> set[str]:
        """Tasks every model of arm ``name`` is evaluated on in this profile."""
        arm = self.arm(name)
        exp = self.experiment(arm.experiment)
        points = [p for _, p in self.arm_points(name)]
        if not points:
            return set()
        return set.intersection(*(set(exp.tasks_for(p)) for p in points))

    # -- sources ----------------------------------------------------------------------------------
    def source_document_path(self, source: str | None) -> Path | None:
        """The local file of a check's source: a path, ``mirror`` (the paper's mirrored text),
        ``arxiv:ID`` (its mirrored text if it is the paper), or None (= the paper)."""
        if source and not source.startswith("arxiv:") and source != "mirror":
            p = Path(source)
            if not p.is_absolute():
                p = self.base_dir / p if (self.base_dir / p).exists() else p
            return p if p.is_file() else None
        mirror = self.paper_mirror
        if source and source.startswith("arxiv:") and source[6:] != (self.paper_arxiv or ""):
            mirror = None
        for d in self.papers_dirs:
            if mirror and (d / mirror).is_file():
                return d / mirror
        return None

    @cached_property
    def _encoder(self) -> Encoder:
        from repro.models.encoder import Encoder

        return Encoder("e5-small")

    def encoder(self) -> Encoder:
        """The embedded e5-small encoder, loaded once per verify."""
        return self._encoder
