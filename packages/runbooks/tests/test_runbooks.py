"""The runbooks' logic, run by `kiln test` in the sandbox with the locked wheels."""

import unittest

from click.testing import CliRunner

from runbooks import drain, report


class Report(unittest.TestCase):
    def test_worst_state_first(self):
        self.assertEqual(
            report.rows(["web-2=ok", "web-1=draining", "db-1=failed"]),
            [("db-1", "failed"), ("web-1", "draining"), ("web-2", "ok")],
        )

    def test_bad_argument(self):
        with self.assertRaises(ValueError):
            report.rows(["web-1"])


class Drain(unittest.TestCase):
    def test_dry_run(self):
        out = CliRunner().invoke(drain.main, ["web-1", "--dry-run"])
        self.assertEqual(out.exit_code, 0)
        self.assertEqual(out.output, "would drain web-1\n")


if __name__ == "__main__":
    unittest.main()
