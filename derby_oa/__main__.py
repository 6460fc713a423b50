"""Command line: `python -m derby_oa build | sql "QUERY" | load FILE [--commit] | undo-upload`."""
from __future__ import annotations

import argparse
import sys

from .errors import InputError


def _build(args) -> int:
    from .build import build

    try:
        report = build()
    except InputError as exc:
        print(f"build failed, previous database kept: {exc}", file=sys.stderr)
        return 1
    print(report.text())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m derby_oa", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="build the database from the plan and published data").set_defaults(func=_build)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
