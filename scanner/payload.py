"""What a label's QR code holds, and how a scanned text becomes a tag.

The QR payload is an URL ``<public base URL>/t/<TAG>``: online, any phone camera opens it in a
browser; the app's own scanner reads the tag straight out of it, offline, without fetching anything.

:func:`parse` turns anything a scanner (or a keyboard-wedge reader) hands over into a
:data:`ScanResult`, never an exception:

- :class:`Tag` — one of ours: the URL, the bare tag (older labels carry it in a Code 128 barcode),
  in any case, with surrounding whitespace or a trailing newline;
- :class:`Misread` — looks like one of ours (our prefix, the right length, only tag characters) but
  the check character does not match: a damaged label or a misread; the app plays a distinct sound;
- :class:`Foreign` — anything else: someone else's barcode, text, garbage.

**Host policy.** Any ``http``/``https`` URL whose path *ends* in ``/t/<TAG>`` is accepted, whatever
its host and whatever path comes before ``/t/``, as long as the tag is valid for the format. Labels
are printed once and stay on the assets for years: they must keep working when the server moves to
another host name or behind a path prefix. This is safe because the app never follows the URL; it
only takes the tag, which is not a secret and is protected against misreads by its check character,
so a QR from another host carrying one of our valid tags is as good as the tag printed beside it.
Query strings and fragments are ignored; one trailing slash is allowed; the ``t`` segment and the tag
are case-insensitive and may be percent-encoded.

The PWA's ``tagcode.ts`` implements the same rules; ``scanner/vectors/payloads.json`` holds the
cases both must agree on.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote

from scanner.tags import DEFAULT_FORMAT, Reason, TagFormat

__all__ = ["MAX_PAYLOAD", "Foreign", "InvalidBaseUrl", "Misread", "ScanResult", "Tag", "encode_url", "parse"]

MAX_PAYLOAD = 2048
"""Longer scanned texts are :class:`Foreign` without further work."""

_TRIM = "\t\n\v\f\r "
# Explicit character classes (no \s, whose meaning differs between Python and JavaScript).
_URL = re.compile(
    r"https?://[^/?#\x00-\x20]+(/[^?#\x00-\x20]*)?(\?[^#\x00-\x20]*)?(#[^\x00-\x20]*)?", re.IGNORECASE | re.ASCII
)
_BASE = re.compile(r"https?://[^/?#@:\x00-\x20]+(:[0-9]{1,5})?(/[^?#\x00-\x20]*)?", re.IGNORECASE | re.ASCII)
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


@dataclass(frozen=True)
class Tag:
    """A valid tag of ours (normalised: upper case, no separators)."""

    tag: str
    kind: Literal["tag"] = "tag"


@dataclass(frozen=True)
class Misread:
    """Our prefix and shape, but the check character fails: ask for another scan or type it."""

    text: str
    reason: Reason = "check-failed"
    kind: Literal["misread"] = "misread"


@dataclass(frozen=True)
class Foreign:
    """Not one of our codes."""

    text: str
    kind: Literal["foreign"] = "foreign"


ScanResult = Tag | Misread | Foreign


class InvalidBaseUrl(ValueError):
    """The public base URL for labels is not an absolute http(s) URL without query or fragment."""


def encode_url(base_url: str, tag: str, fmt: TagFormat = DEFAULT_FORMAT) -> str:
    """The label URL for ``tag``: ``<base_url>/t/<TAG>`` (the tag validated and normalised).

    Raises :class:`InvalidBaseUrl` or :class:`~scanner.tags.InvalidTag`.
    """
    base = base_url.strip(_TRIM).rstrip("/") if isinstance(base_url, str) else ""
    if _BASE.fullmatch(base) is None:
        raise InvalidBaseUrl(f"the public base URL must look like https://host[:port][/path], got {base_url!r}")
    return f"{base}/t/{fmt.validate(tag)}"


def parse(text: str | bytes, fmt: TagFormat = DEFAULT_FORMAT) -> ScanResult:
    """What a scanned text is, for ``fmt``: :class:`Tag`, :class:`Misread` or :class:`Foreign`.

    Bytes are read as UTF-8 (undecodable bytes make it foreign); any other type is a ``TypeError``.
    """
    if isinstance(text, bytes | bytearray | memoryview):
        text = bytes(text).decode("utf-8", errors="replace")
    if not isinstance(text, str):
        raise TypeError(f"parse() takes the scanned text as str or bytes, not {type(text).__name__}")
    if len(text) > MAX_PAYLOAD:
        return Foreign(text)
    clean = unicodedata.normalize("NFKC", text).strip(_TRIM)
    url = _URL.fullmatch(clean)
    candidate = _tag_from_path(url.group(1) or "") if url else clean
    if candidate is None:
        return Foreign(text)
    tag, reason = fmt.judge(candidate)
    if reason is None:
        return Tag(tag)
    if reason == "check-failed":
        return Misread(text, reason)
    return Foreign(text)


def _tag_from_path(path: str) -> str | None:
    segments = path.split("/")  # ["", ..., "t", TAG] or with a trailing ""
    if segments[-1] == "":
        segments.pop()
    if len(segments) < 3 or segments[-2] not in ("t", "T"):
        return None
    if _BAD_ESCAPE.search(segments[-1]):
        return None  # malformed percent-encoding (decodeURIComponent throws on it in the PWA)
    try:
        return unquote(segments[-1], errors="strict")
    except UnicodeDecodeError:
        return None
