"""Asset tag codes: ``<prefix><zero-padded number><check character>``, e.g. ``AS00001234`` + ``W``.

The check character is ISO/IEC 7064 MOD 37,36 (the hybrid system, via python-stdnum) computed over
everything before it, prefix included. It catches every single-character substitution and all but
about 0.4 % of adjacent transpositions, so a mistyped or misread tag is refused offline.

MOD 37,36 draws its check character from the same 36 characters as the tag (``0-9A-Z``): the ``*``
that appears in ISO 7064 tables belongs to the *pure* MOD 37-2 system, which this is not. A tag is
therefore always ``[0-9A-Z]``: safe in a URL path, in Code 128, and in QR alphanumeric mode.

The number has a fixed width (8 digits by default), so every tag of a format has the same length:
someone typing a tag by hand can see when a digit is missing, and a length check is a cheap first
filter for scanned codes that are not ours.

Input is normalised before it is judged (:func:`normalise`): Unicode NFKC (full-width characters
from a Chinese input method become ASCII), spaces and hyphens anywhere are dropped (people group
digits when they type), and ASCII letters are upper-cased. The PWA's ``tagcode.ts`` does the same;
``scanner/vectors/tags.json`` holds the cases both must agree on.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from stdnum.iso7064 import mod_37_36

__all__ = [
    "ALPHABET",
    "DEFAULT_FORMAT",
    "InvalidTag",
    "InvalidTagFormat",
    "Reason",
    "TagFormat",
    "TagNumberOutOfRange",
    "check_character",
    "normalise",
]

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
"""Characters of a tag and of its check character (MOD 37,36 uses the same 36)."""

Reason = Literal["empty", "bad-characters", "wrong-prefix", "wrong-length", "check-failed"]

MAX_INPUT = 256
"""Longer input is refused as ``wrong-length`` before any other work (it cannot be a tag)."""

_SEPARATORS = re.compile(r"[\t\n\v\f\r \-]+")  # an explicit set, the same as tagcode.ts (\s differs)
_TAG_CHARS = re.compile(r"[0-9A-Za-z]*")
_PREFIX = re.compile(r"[A-Z0-9]{1,8}")
_DIGITS = re.compile(r"[0-9]*")
_BODY = re.compile(r"[0-9A-Z]{1,256}")


class InvalidTag(ValueError):
    """The text is not a valid tag of the format; ``reason`` says why, for the program."""

    MESSAGES: dict[str, str] = {
        "empty": "no tag given",
        "bad-characters": "a tag has only letters and digits (and digits only after the prefix)",
        "wrong-prefix": "the tag does not start with {prefix}",
        "wrong-length": "a tag has {length} characters",
        "check-failed": "the check character does not match: mistyped or misread",
    }

    def __init__(self, reason: Reason, text: str, fmt: TagFormat | None = None) -> None:
        self.reason: Reason = reason
        self.text = text
        fmt = fmt or DEFAULT_FORMAT
        message = self.MESSAGES[reason].format(prefix=fmt.prefix, length=fmt.length)
        super().__init__(f"invalid tag {text[:40]!r}: {message}")


class InvalidTagFormat(ValueError):
    """A :class:`TagFormat` was configured with an unusable prefix or width."""


class TagNumberOutOfRange(ValueError):
    """:meth:`TagFormat.make` was given a number that does not fit the format's width."""


def check_character(body: str) -> str:
    """The MOD 37,36 check character of ``body`` (upper-case ``0-9A-Z`` only, else :class:`InvalidTag`)."""
    if not isinstance(body, str) or not body or _BODY.fullmatch(body) is None:
        raise InvalidTag("bad-characters", repr(body) if not isinstance(body, str) else body)
    return str(mod_37_36.calc_check_digit(body))


def normalise(text: str) -> str:
    """NFKC, drop spaces and hyphens, upper-case ASCII letters. Other characters are kept (and refused later)."""
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    return text.translate(_UPPER)


_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


@dataclass(frozen=True)
class TagFormat:
    """How tags of one installation look: ``prefix`` (1–8 of ``A-Z0-9``, upper-cased) and the number's width."""

    prefix: str = "AS"
    digits: int = 8
    length: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.prefix, str):
            object.__setattr__(self, "prefix", self.prefix.translate(_UPPER))
        if not isinstance(self.prefix, str) or _PREFIX.fullmatch(self.prefix) is None:
            raise InvalidTagFormat(f"tag prefix must be 1-8 upper-case letters or digits, got {self.prefix!r}")
        if not isinstance(self.digits, int) or isinstance(self.digits, bool) or not 4 <= self.digits <= 12:
            raise InvalidTagFormat(f"tag number width must be 4-12 digits, got {self.digits!r}")
        object.__setattr__(self, "length", len(self.prefix) + self.digits + 1)

    @property
    def max_number(self) -> int:
        return 10**self.digits - 1

    def make(self, number: int) -> str:
        """The tag for ``number`` (0 … ``max_number``)."""
        if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number <= self.max_number:
            raise TagNumberOutOfRange(f"tag numbers are 0 to {self.max_number:,}, got {number!r}")
        body = f"{self.prefix}{number:0{self.digits}d}"
        return body + check_character(body)

    def check_character(self, body: str) -> str:
        """The check character for a tag body (prefix + number, no check character)."""
        return check_character(body)

    def reason(self, text: str) -> Reason | None:
        """Why ``text`` is not a tag of this format, or ``None`` when it is one."""
        return self.judge(text)[1]

    def validate(self, text: str) -> str:
        """The normalised tag, or :class:`InvalidTag` with a ``reason``."""
        tag, reason = self.judge(text)
        if reason is not None:
            raise InvalidTag(reason, text if isinstance(text, str) else repr(text), self)
        return tag

    def is_valid(self, text: str) -> bool:
        return self.judge(text)[1] is None

    def number(self, tag: str) -> int:
        """The number inside a tag (validated first)."""
        return int(self.validate(tag)[len(self.prefix) : -1])

    def judge(self, text: object) -> tuple[str, Reason | None]:
        """``(normalised text, None)`` for a valid tag, else ``(normalised text, reason)``; never raises."""
        if not isinstance(text, str):
            return "", "bad-characters"
        if len(text) > MAX_INPUT:
            return "", "wrong-length"
        tag = normalise(text)
        if not tag:
            return tag, "empty"
        if not tag.isascii() or _TAG_CHARS.fullmatch(tag) is None:
            return tag, "bad-characters"
        if not tag.startswith(self.prefix):
            return tag, "wrong-prefix"
        if len(tag) != self.length:
            return tag, "wrong-length"
        if _DIGITS.fullmatch(tag[len(self.prefix) : -1]) is None:
            return tag, "bad-characters"
        if not mod_37_36.is_valid(tag):
            return tag, "check-failed"
        return tag, None


DEFAULT_FORMAT = TagFormat()
