"""Runbooks turned into tools: fleet-report and drain-node."""
