"""Run the benchmarks and print flambeau and PyTorch side by side.

Every ``benchmarks/bench_*.py`` module exposes ``run() -> list[dict]``; each row has the keys
``name``, ``flambeau_s`` and ``torch_s`` (seconds, ``None`` when not measured) and optionally
``target`` (text: what we aim for). The ratio column is torch time / flambeau time: 1.0 means
the same speed, above 1 flambeau is faster.

Usage: ``python benchmarks/run.py [--only NAME ...]`` (``nox -s bench -- --only NAME``), where
NAME selects the modules ``bench_*NAME*.py``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
COLUMNS = ("benchmark", "flambeau", "torch", "ratio", "target")


def discover() -> list[str]:
    return sorted(path.stem for path in HERE.glob("bench_*.py"))


def seconds(value) -> str:
    if value is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value / 1e-9:.3g} ns"


def ratio(row: dict) -> str:
    ours, theirs = row.get("flambeau_s"), row.get("torch_s")
    if not ours or theirs is None:
        return "-"
    return f"{theirs / ours:.2f}"


def table(rows: list[dict]) -> str:
    cells = [
        (r["name"], seconds(r.get("flambeau_s")), seconds(r.get("torch_s")), ratio(r),
         r.get("target") or "")
        for r in rows
    ]  # fmt: skip
    widths = [max(len(c[i]) for c in [COLUMNS, *cells]) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only the benchmark modules whose name (bench_NAME.py) contains NAME; repeatable",
    )
    args = parser.parse_args(argv)

    sys.path.insert(0, str(HERE))  # bench modules import _timing
    modules = discover()
    wanted = args.only or []
    if not modules:
        print("no benchmarks yet: add benchmarks/bench_*.py modules exposing run()")
        return 0

    rows, failed = [], []
    for stem in modules:
        if wanted and not any(w.removeprefix("bench_") in stem for w in wanted):
            continue
        try:
            rows += importlib.import_module(stem).run()
        except Exception:  # one broken benchmark must not hide the others' numbers
            traceback.print_exc()
            failed.append(stem)

    if rows:
        print(table(rows))
        print("\nratio = torch time / flambeau time (1.0 = same speed, > 1 = flambeau faster)")
    elif wanted and not failed:
        print(f"no benchmark matches {wanted}; available: {', '.join(modules)}")
        return 2
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
