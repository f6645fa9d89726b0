"""Sync benchmarks: first pull, incremental pull and push through the real app (ARCHITECTURE.md §3).

Run ``python -m bench.sync [--engine sqlite|postgres|both] [--rows 60000]``; results live in
``bench/README.md``. Not part of the test run.
"""
