"""Benchmarks: `python -m bench <scenario>`; the last stdout line is one JSON object."""
