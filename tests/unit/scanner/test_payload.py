"""Scanned payloads: the label URL and the bare tag are ours; anything else is a typed result, never an error."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanner.payload import Foreign, Misread, Tag, encode_url, parse
from scanner.tags import ALPHABET, DEFAULT_FORMAT, TagFormat

PREFIXES = st.text(alphabet=string.ascii_uppercase + string.digits, min_size=1, max_size=8)
HOSTS = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\.[a-z]{2,6}){0,2}(:[0-9]{2,5})?", fullmatch=True)
PATHS = st.lists(st.from_regex(r"[A-Za-z0-9._~-]{1,12}", fullmatch=True), max_size=3)


@given(st.text(max_size=3000))
def test_any_text_gives_a_result(text):
    result = parse(text)
    assert isinstance(result, Tag | Misread | Foreign)
    if isinstance(result, Tag):
        assert DEFAULT_FORMAT.is_valid(result.tag)
    else:
        assert result.text == text


@given(st.text(st.characters(codec=None, exclude_categories=()), max_size=200))
def test_any_code_point_gives_a_result(text):
    """Lone surrogates and control characters included, as a broken scanner driver might hand over."""
    assert isinstance(parse(text), Tag | Misread | Foreign)


@given(st.binary(max_size=500))
def test_any_bytes_give_a_result(data):
    assert isinstance(parse(data), Tag | Misread | Foreign)


@pytest.mark.parametrize("value", [None, 42, ["AS"], object()])
def test_other_types_are_a_type_error(value):
    with pytest.raises(TypeError, match="str or bytes"):
        parse(value)  # type: ignore[arg-type]


@given(
    prefix=PREFIXES,
    digits=st.integers(4, 12),
    https=st.booleans(),
    host=HOSTS,
    path=PATHS,
    data=st.data(),
)
def test_encode_then_parse_round_trip(prefix, digits, https, host, path, data):
    fmt = TagFormat(prefix, digits)
    tag = fmt.make(data.draw(st.integers(0, fmt.max_number)))
    base = f"{'https' if https else 'http'}://{host}" + "".join(f"/{p}" for p in path)
    url = encode_url(base, tag, fmt)
    assert url.endswith(f"/t/{tag}")
    assert parse(url, fmt) == Tag(tag)
    assert parse(url.encode(), fmt) == Tag(tag)
    assert parse(f" {url}\r\n", fmt) == Tag(tag)
    assert parse(tag.lower(), fmt) == Tag(tag)
    # The same label read with another installation's format is not ours.
    other = TagFormat("Z" + prefix[:7] if not prefix.startswith("Z") else "Y" + prefix[:7], digits)
    assert isinstance(parse(url, other), Foreign)


@given(tag=st.integers(0, DEFAULT_FORMAT.max_number).map(DEFAULT_FORMAT.make), data=st.data())
def test_a_wrong_check_character_is_a_misread(tag, data):
    wrong = data.draw(st.sampled_from([c for c in ALPHABET if c != tag[-1]]))
    assert parse(tag[:-1] + wrong) == Misread(tag[:-1] + wrong)
    url = f"https://outpost.example.com/t/{tag[:-1]}{wrong}"
    assert parse(url) == Misread(url)


def test_bytes_that_are_not_utf8_are_foreign():
    assert isinstance(parse(b"\xff\xfeAS"), Foreign)
