"""QR tags, labels and decoding (see issue 5). Never imports `backend`.

- :mod:`scanner.tags` — tag codes ``<prefix><number><check>`` with an ISO/IEC 7064 MOD 37,36 check character;
- :mod:`scanner.payload` — the label URL ``<base>/t/<TAG>`` and what a scanned text is (tag, misread, foreign);
- :mod:`scanner.labels` — label sheets and thermal labels as PDF or PNG (segno, Pillow);
- :mod:`scanner.decode` — codes found in photos (zxing-cpp), EXIF orientation;
- :mod:`scanner.degrade` — simulated phone photos for the tests and bench/scanner.

``scanner/vectors/*.json`` are the cases the PWA's ``src/scanner/tagcode.ts`` must agree on.
"""
