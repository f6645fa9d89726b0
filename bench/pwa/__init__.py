"""PWA benchmarks: JS on first load, first sync of 60,000 rows into the on-device store in Chromium,
an incremental sync of 100 changed rows, and search per keystroke. ``python -m bench.pwa``."""
