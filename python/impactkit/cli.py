"""Command line: ``impactkit reproduce`` (also ``python -m impactkit reproduce``).

    impactkit reproduce [--out DIR] [--study KEY ...] [--list] [--allow-documented]

re-runs the catalogue of published studies (:mod:`impactkit.replication`) from the data shipped
inside the package, writes ``DIR/report.md`` and ``DIR/report.html`` (default DIR:
``./impactkit-report``), prints a table, and exits with status 1 if any published figure failed to
reproduce (0 otherwise; 2 for a usage error such as an unknown study key).
"""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional, Sequence

DEFAULT_OUT = "impactkit-report"


def _build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="impactkit",
        description="impactkit: statistics for monitoring and evaluation of social programmes.")
    parser.add_argument("--version", action="version", version=f"impactkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    rep = sub.add_parser(
        "reproduce", help="re-run published studies from shipped data and write a report",
        description="Re-run the catalogue of published studies from the data shipped with impactkit, write "
                    "report.md and report.html, print a table, and exit with status 1 if any published figure "
                    "does not reproduce at its published precision.")
    rep.add_argument("--out", metavar="DIR", default=DEFAULT_OUT,
                     help=f"directory for report.md and report.html (default: ./{DEFAULT_OUT})")
    rep.add_argument("--study", metavar="KEY", nargs="+", action="extend", default=None,
                     help="run only these studies (repeatable; default: all). See --list.")
    rep.add_argument("--list", action="store_true", help="list the studies in the catalogue and exit")
    rep.add_argument("--allow-documented", action="store_true",
                     help="do not fail on figures that carry a written, documented deviation "
                          "(they are still shown as FAIL (documented) in the report)")
    return parser


def _list(out) -> int:
    from . import replication

    cat = replication.catalogue()
    w = max((len(s.key) for s in cat), default=3)
    print(f"{'key'.ljust(w)}  {'dataset'.ljust(18)}  title", file=out)
    for s in cat:
        print(f"{s.key.ljust(w)}  {s.dataset.ljust(18)}  {s.title}", file=out)
    return 0


def _reproduce(args, out, err) -> int:
    from . import replication

    if args.list:
        return _list(out)
    keys: Optional[List[str]] = None
    if args.study:
        known = replication.list_studies()
        unknown = [k for k in args.study if k not in known]
        if unknown:
            print(f"impactkit reproduce: unknown study key(s) {', '.join(unknown)}; "
                  f"available: {', '.join(known)} (see --list)", file=err)
            return 2
        keys = list(dict.fromkeys(args.study))
    report = replication.run(keys)
    print(report.to_text(), file=out)
    try:
        paths = report.write(args.out)
    except OSError as exc:
        print(f"impactkit reproduce: cannot write the report to {args.out!r}: {exc}", file=err)
        return 2
    print(f"Wrote {paths['report.md']} and {paths['report.html']}", file=out)
    code = report.exit_code(allow_documented=args.allow_documented)
    if code:
        print("impactkit reproduce: some published figures did not reproduce (exit status 1):", file=err)
        for line in _failure_lines(report, args.allow_documented):
            print(line, file=err)
    elif report.failures:
        print(f"impactkit reproduce: {len(report.failures)} figure(s) with a documented deviation did not reproduce and "
              "were accepted (--allow-documented); the reasons are in report.md", file=err)
    return code


def _first_sentence(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    cut = text.find(". ")
    s = text if cut < 0 else text[: cut + 1]
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _failure_lines(report, allow_documented: bool) -> List[str]:
    """One line per failed figure (published vs computed, difference, tolerance, why) and per study error."""
    lines = []
    for r in report.errors:
        lines.append(f"  {r.study.key}: the study raised {r.error}")
    n_doc = 0
    for study, f in report.failures:
        why = ""
        if f.known_deviation:
            n_doc += 1
            why = f"; documented deviation: {_first_sentence(f.known_deviation)}"
        lines.append(f"  {study.key}: {f.label}: published {f.format_published()}, computed {f.format_reproduced()} "
                     f"(difference {f.difference:+.{max(f.decimals, 0) + 2}f}; tolerance ±{f.tolerance:g} at "
                     f"{f.decimals} decimal(s)){why}")
    if n_doc and not allow_documented:
        still = []
        if len(report.failures) > n_doc:
            still.append(f"{len(report.failures) - n_doc} undocumented failure(s)")
        if report.errors:
            still.append(f"{len(report.errors)} study error(s)")
        lines.append(f"  {n_doc} of these {len(report.failures)} failed figure(s) carry a documented deviation "
                     "(explained in report.md); rerun with --allow-documented to accept those"
                     + (f" ({' and '.join(still)} would still fail)" if still else ""))
    return lines


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``impactkit`` console script; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.command == "reproduce":
        return _reproduce(args, sys.stdout, sys.stderr)
    parser.print_help(sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
