#!/usr/bin/env python3
"""Tests for hello.py and its helper, run by `kiln test` in the sandbox."""

import os
import subprocess
import unittest

import dep


class HelloTest(unittest.TestCase):
    def test_greeting(self):
        self.assertEqual(dep.greeting("kiln"), "Hello, kiln!")

    def test_hello_prints_banner_and_greeting(self):
        script = os.path.join(os.environ["RUNFILES_DIR"], "_main/packages/pyhello/hello.py")
        out = subprocess.run([script, "kiln"], capture_output=True, text=True, check=True)
        self.assertEqual(out.stdout, "HELLO FROM A GENRULE\nHello, kiln!\n")


if __name__ == "__main__":
    unittest.main()
