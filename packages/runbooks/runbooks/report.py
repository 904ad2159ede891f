"""fleet-report HOST=STATE...: the fleet as a table, worst state first."""

import sys

from tabulate import tabulate

ORDER = {"failed": 0, "draining": 1, "ok": 2}
USAGE = f"usage: fleet-report HOST=STATE... (STATE one of {', '.join(ORDER)})"


def rows(args):
    """(host, state) pairs from HOST=STATE arguments, worst state first."""
    pairs = []
    for arg in args:
        host, sep, state = arg.partition("=")
        if not sep or not host or state not in ORDER:
            raise ValueError(f"{arg!r}: expected HOST=STATE, STATE one of {', '.join(ORDER)}")
        pairs.append((host, state))
    return sorted(pairs, key=lambda p: (ORDER[p[1]], p[0]))


def main():
    args = sys.argv[1:]
    if args in (["-h"], ["--help"]):
        print(USAGE)
        return 0
    if not args:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        table = rows(args)
    except ValueError as e:
        print(f"fleet-report: {e}", file=sys.stderr)
        return 2
    print(tabulate(table, headers=["host", "state"]))
    return 0
