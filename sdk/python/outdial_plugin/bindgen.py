"""Regenerate the typed bindings (`outdial_wit/` and
`componentize_py_types.py` beside this package) from the WIT:

    python -m outdial_plugin.bindgen [--wit DIR] [--check]

They are componentize-py's stubs for the three worlds merged: natively they
give tests real dataclasses and editors type hints; inside a component
componentize-py generates the same module with working imports, and that
one is found first. `--check` only reports whether they are current.
"""

import argparse
import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .wit import SDK_ROOT, WORLD_MODULE, WORLDS, componentize_py_command, resolve_wit_dir

# What the SDK uses of componentize-py's output; the rest (async support,
# the poll loop) serves worlds with async functions, which ours have none of.
GENERATED = (WORLD_MODULE, "componentize_py_types.py")


def generate(wit_dir: Path, into: Path) -> None:
    command = componentize_py_command() + ["--wit-path", str(wit_dir), "--world-module", WORLD_MODULE]
    for world, _, _ in WORLDS.values():
        command += ["--world", world]
    subprocess.run(command + ["bindings", str(into)], check=True)


def differences(left: Path, right: Path) -> list[str]:
    """Relative paths of `.py` files that differ between two trees."""
    found = []
    for name in GENERATED:
        a, b = left / name, right / name
        if a.is_file() or b.is_file():
            if not (a.is_file() and b.is_file() and filecmp.cmp(a, b, shallow=False)):
                found.append(name)
            continue
        paths = {p.relative_to(a) for p in a.rglob("*.py")} | {p.relative_to(b) for p in b.rglob("*.py")}
        for path in sorted(paths):
            if not ((a / path).is_file() and (b / path).is_file() and filecmp.cmp(a / path, b / path, shallow=False)):
                found.append(str(Path(name) / path))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m outdial_plugin.bindgen", description=__doc__.split("\n\n")[0])
    parser.add_argument("--wit", help="the WIT directory (default: sdk/wit/v0.2.0 of the outdial checkout)")
    parser.add_argument("--check", action="store_true", help="exit 1 when the committed bindings are not current")
    args = parser.parse_args(argv)
    wit_dir = resolve_wit_dir(args.wit)
    with tempfile.TemporaryDirectory(prefix="outdial-bindings-") as scratch:
        fresh = Path(scratch)
        generate(wit_dir, fresh)
        stale = differences(fresh, SDK_ROOT)
        if args.check:
            if stale:
                print(f"bindings in {SDK_ROOT} are stale against {wit_dir}: {', '.join(stale)}; run python -m outdial_plugin.bindgen", file=sys.stderr)
                return 1
            return 0
        for name in GENERATED:
            target = SDK_ROOT / name
            if target.is_dir():
                shutil.rmtree(target)
            source = fresh / name
            if source.is_dir():
                shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(source, target)
        print(f"bindings regenerated from {wit_dir} into {SDK_ROOT}: {', '.join(stale) or 'no change'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
