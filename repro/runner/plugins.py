"""The ``plugins:`` section of an experiment file: tasks and encoders named by ``module:attribute``.

::

    plugins:
      tasks: {toy-retrieval: "toy_plugin.tasks:TOY"}      # a repro.evaluation.tasks.Task
      encoders: {toy-encoder: "toy_plugin.models:prepare"}  # a function returning a model folder or hub id

Installed packages register the same things through entry points (``repro.tasks``,
``repro.encoders``) and need no section. Check kinds and trend hypotheses belong to the claims
registry's ``plugins:`` (they are evidence, which an experiment does not know about).
"""

from __future__ import annotations

from repro.errors import ReproError
from repro.evaluation.tasks import Task, register_task
from repro.models.registry import register_encoder
from repro.plugins import did_you_mean, load_object

KINDS = ("tasks", "encoders")


def load_plugins(plugins: dict[str, dict[str, str]], where: str, kinds: tuple[str, ...] = KINDS) -> None:
    """Import and register every plug-in a file names; an unknown kind or a wrong object is a ReproError."""
    for kind, entries in plugins.items():
        if kind not in kinds:
            raise ReproError(
                f"{where}: unknown plug-in kind '{kind}'{did_you_mean(kind, kinds)}; known: {', '.join(kinds)}"
            )
        for name, path in entries.items():
            obj = load_object(path, f"{where}.{kind}.{name}")
            if kind == "tasks":
                task = obj() if callable(obj) and not isinstance(obj, Task) else obj
                if isinstance(task, Task) and task.name != name:
                    raise ReproError(f"{where}.tasks.{name}: {path} is task '{task.name}'; name it so")
                register_task(task, owner=path)
            elif kind == "encoders":
                if not callable(obj):
                    raise ReproError(f"{where}.encoders.{name}: {path} is not a function returning a model folder")
                register_encoder(name, obj)
