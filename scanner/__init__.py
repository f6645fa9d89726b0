"""QR tags, labels and decoding (see issue 5). Never imports `backend`."""
