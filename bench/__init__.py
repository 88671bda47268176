"""Benchmarks: scripts that print figures (see docs/bench.md). Nothing here is imported by the
application, and nothing here asserts on time."""
