"""How data travels through repro's layers: the path of a command, and of one value, through the modules.

Runs a repro CLI command in-process under ``sys.setprofile`` and records every call into a function
of ``repro/``. It prints:

- **stops**: the distinct repro functions the command called; **modules**: the distinct modules;
- **returns to a higher layer**: in the order functions are entered, a step from a function of a
  lower layer to one of a higher layer (data went down to, say, evaluation, and came back up to the
  runner to be reshaped before going down again), each such pair of modules counted once. Layers
  are the architecture's order (data=0 ... cli=8; top-level modules and ``sources`` are no layer);
- with ``--follow NAME[,NAME...]``: the calls that received a parameter of one of those names, in
  order, with the value's type (``int``, ``dict``, ``Subset``...): how a value such as ``limit``
  changes form on its way.

Usage::

    python bench/trace_path.py --follow limit,subset,entry -- eval e5-small --task xquad-r --langs en --limit 2
    python bench/trace_path.py -- verify claims/hybrid.yaml --profile multiseed --no-run
"""

from __future__ import annotations

import argparse
import inspect
import itertools
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "repro"
LAYERS = ("data", "models", "training", "evaluation", "runner", "checks", "claims", "report", "cli")


def module_of(filename: str) -> str | None:
    """``repro.runner.sweep`` for a file under repro/, else None."""
    try:
        rel = Path(filename).resolve().relative_to(ROOT.parent)
    except ValueError:
        return None
    if rel.parts[0] != ROOT.name:
        return None
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int | None:
    """The layer index of ``module`` (``repro.cli`` is the top), or None for top-level and leaf modules."""
    parts = module.split(".")
    name = parts[1] if len(parts) > 1 else ""
    return LAYERS.index(name) if name in LAYERS else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--follow", default="", help="parameter names to follow, comma-separated")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="-- then the repro command's arguments")
    opts = parser.parse_args()
    args = opts.args[1:] if opts.args[:1] == ["--"] else opts.args
    follow = {n for n in opts.follow.split(",") if n}

    from repro.cli import cli

    calls: list[tuple[str, str]] = []
    followed: list[str] = []

    def profile(frame, event, arg):
        if event != "call":
            return
        module = module_of(frame.f_code.co_filename)
        if module is None or frame.f_code.co_name.startswith("<"):
            return
        calls.append((module, frame.f_code.co_qualname))
        if follow:
            code = frame.f_code
            names = list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
            values = {n: frame.f_locals[n] for n in names if n in frame.f_locals}
            if code.co_flags & inspect.CO_VARKEYWORDS:
                extra = frame.f_locals.get(code.co_varnames[len(names) + bool(code.co_flags & inspect.CO_VARARGS)])
                values |= {f"**{k}": v for k, v in (extra or {}).items()}
            seen = [f"{n}: {type(v).__name__}" for n, v in values.items() if n.lstrip("*") in follow]
            if seen:
                followed.append(f"{module}.{code.co_qualname}({', '.join(seen)})")

    sys.setprofile(profile)
    try:
        cli.main(args=args, standalone_mode=False)
    finally:
        sys.setprofile(None)

    stops = list(dict.fromkeys(calls))
    modules = list(dict.fromkeys(m for m, _ in calls))
    layered = [(m, layer_of(m)) for m, _ in calls]
    layered = [(m, x) for m, x in layered if x is not None]
    returns = {(a, b) for (a, la), (b, lb) in itertools.pairwise(layered) if lb > la}
    print(f"command: repro {' '.join(args)}")
    print(f"calls: {len(calls)}; stops (distinct functions): {len(stops)}; modules: {len(modules)}")
    print(f"returns to a higher layer: {len(returns)}")
    per_module = Counter(m for m, _ in stops)
    print("functions per module: " + ", ".join(f"{m.removeprefix('repro.')} {n}" for m, n in per_module.most_common()))
    if follow:
        path = list(dict.fromkeys(followed))
        forms = sorted({f.split(": ")[1] for p in path for f in p[p.index("(") + 1 : -1].split(", ")})
        print(f"\n{', '.join(sorted(follow))}: {len(path)} stops, forms {forms}")
        for p in path:
            print("  " + p)


if __name__ == "__main__":
    main()
