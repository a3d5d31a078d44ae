"""Copies of the upstream test suites and shapes the tests read (see README.md here)."""
