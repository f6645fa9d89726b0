"""Tag codes: the check character is ISO/IEC 7064 MOD 37,36 and catches what it promises."""

from __future__ import annotations

import random
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.iso7064 import mod_37_36

from scanner.tags import (
    ALPHABET,
    DEFAULT_FORMAT,
    InvalidTag,
    InvalidTagFormat,
    TagFormat,
    TagNumberOutOfRange,
    check_character,
)

PREFIXES = st.text(alphabet=string.ascii_uppercase + string.digits, min_size=1, max_size=8)


def sample_tags(n: int, seed: int, fmt: TagFormat = DEFAULT_FORMAT) -> list[str]:
    rng = random.Random(seed)
    return [fmt.make(rng.randrange(fmt.max_number + 1)) for _ in range(n)]


def test_the_standards_example():
    assert check_character("A12425GABC1234002") == "M"


def test_check_alphabet_has_no_star():
    """MOD 37,36 draws its check character from the 36 tag characters; '*' is MOD 37-2's, never in a tag."""
    checks = {check_character(t[:-1]) for t in sample_tags(3000, 1)}
    assert checks == set(ALPHABET)
    assert DEFAULT_FORMAT.reason(sample_tags(1, 2)[0][:-1] + "*") == "bad-characters"


@given(st.text(alphabet=ALPHABET, min_size=1, max_size=30))
def test_agrees_with_python_stdnum(body):
    assert check_character(body) == mod_37_36.calc_check_digit(body)
    assert mod_37_36.is_valid(body + check_character(body))


@given(prefix=PREFIXES, digits=st.integers(4, 12), data=st.data())
def test_make_validate_number_round_trip(prefix, digits, data):
    fmt = TagFormat(prefix, digits)
    number = data.draw(st.integers(0, fmt.max_number))
    tag = fmt.make(number)
    assert len(tag) == fmt.length == len(prefix) + digits + 1
    assert tag.startswith(prefix) and tag[len(prefix) : -1] == f"{number:0{digits}d}"
    assert fmt.validate(tag.lower()) == tag
    assert fmt.number(tag) == number
    assert fmt.is_valid(tag)


def test_every_single_substitution_is_detected():
    tags = [*sample_tags(150, 3), DEFAULT_FORMAT.make(0), DEFAULT_FORMAT.make(DEFAULT_FORMAT.max_number)]
    checked = 0
    for tag in tags:
        for i, original in enumerate(tag):
            for c in ALPHABET:
                if c != original:
                    changed = tag[:i] + c + tag[i + 1 :]
                    assert DEFAULT_FORMAT.reason(changed) in ("check-failed", "bad-characters", "wrong-prefix"), changed
                    assert not DEFAULT_FORMAT.is_valid(changed)
                    checked += 1
    assert checked == len(tags) * DEFAULT_FORMAT.length * 35


def test_adjacent_transpositions_are_nearly_all_detected():
    total = missed = 0
    for tag in sample_tags(2000, 4):
        for i in range(len(tag) - 1):
            if tag[i] != tag[i + 1]:
                total += 1
                missed += DEFAULT_FORMAT.is_valid(tag[:i] + tag[i + 1] + tag[i] + tag[i + 2 :])
    rate = 1 - missed / total
    print(f"\nadjacent transpositions detected: {rate:.2%} of {total:,} ({missed} missed)")
    # ISO 7064 MOD 37,36 misses a few transpositions (~0.4 % here); a plain sum would miss them all.
    assert 0.99 <= rate <= 0.999


@given(st.text(max_size=300))
def test_judging_any_text_never_raises(text):
    tag, reason = DEFAULT_FORMAT.judge(text)
    assert (reason is None) == DEFAULT_FORMAT.is_valid(text)
    if reason is None:
        assert tag == DEFAULT_FORMAT.validate(text)
    else:
        with pytest.raises(InvalidTag) as e:
            DEFAULT_FORMAT.validate(text)
        assert e.value.reason == reason and str(e.value)


@pytest.mark.parametrize("value", [None, 12345678, b"AS00000001", ["AS"]])
def test_non_text_is_refused_with_a_reason(value):
    assert DEFAULT_FORMAT.reason(value) == "bad-characters"
    with pytest.raises(InvalidTag):
        DEFAULT_FORMAT.validate(value)


def test_lower_case_prefix_is_upper_cased():
    assert TagFormat("as").prefix == "AS"
    assert TagFormat("k9", 6).make(7) == TagFormat("K9", 6).make(7)


@pytest.mark.parametrize(
    "prefix,digits",
    [("", 8), ("A-B", 8), ("ABCDEFGHI", 8), ("资产", 8), (None, 8), ("AS", 3), ("AS", 13), ("AS", True), ("AS", 8.0)],
)
def test_bad_formats_are_refused(prefix, digits):
    with pytest.raises(InvalidTagFormat):
        TagFormat(prefix, digits)


@pytest.mark.parametrize("number", [-1, 10**8, True, 1.0, "1", None])
def test_numbers_out_of_range(number):
    with pytest.raises(TagNumberOutOfRange):
        DEFAULT_FORMAT.make(number)


@pytest.mark.parametrize("body", ["", "as1", "AS 1", "A*", "Ä", None, 5])
def test_check_character_refuses_what_is_not_a_body(body):
    with pytest.raises(InvalidTag) as e:
        check_character(body)
    assert e.value.reason == "bad-characters"


def test_number_validates_first():
    with pytest.raises(InvalidTag) as e:
        DEFAULT_FORMAT.number("AS00000001A")
    assert e.value.reason == "check-failed"
