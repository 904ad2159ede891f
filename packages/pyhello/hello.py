#!/usr/bin/env python3
"""Print the banner made at build time, then greet the name given (default: world)."""

import os
import sys

from dep import greeting


def banner():
    path = os.path.join(os.environ["RUNFILES_DIR"], "_main/packages/pyhello/banner.txt")
    with open(path, encoding="utf-8") as f:
        return f.read().strip()


def main(argv):
    name = argv[1] if len(argv) > 1 else "world"
    print(banner())
    print(greeting(name))


if __name__ == "__main__":
    main(sys.argv)
