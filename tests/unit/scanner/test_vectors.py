"""The shared tag and payload vectors (scanner/vectors), as the PWA's Vitest suite runs them too."""

from __future__ import annotations

import json

import pytest

from scanner.payload import InvalidBaseUrl, encode_url, parse
from scanner.tags import InvalidTag, TagFormat, check_character
from tests.unit.scanner import vectors

FILES = vectors.build()
TAGS = json.loads(FILES["tags.json"])
PAYLOADS = json.loads(FILES["payloads.json"])


@pytest.mark.parametrize("name", sorted(FILES))
def test_committed_vectors_are_current(name):
    committed = (vectors.DIR / name).read_text("utf-8")
    assert committed == FILES[name], f"scanner/vectors/{name} is stale: run python -m tests.unit.scanner.vectors"


@pytest.mark.parametrize("case", TAGS["check"], ids=lambda c: c["body"])
def test_check_characters(case):
    assert check_character(case["body"]) == case["check"]


@pytest.mark.parametrize("body", TAGS["badBodies"])
def test_bad_bodies(body):
    with pytest.raises(InvalidTag) as e:
        check_character(body)
    assert e.value.reason == "bad-characters"


@pytest.mark.parametrize("f", TAGS["formats"], ids=lambda f: f"{f['prefix']}/{f['digits']}")
def test_tag_vectors(f):
    fmt = TagFormat(f["prefix"], f["digits"])
    for case in f["valid"]:
        assert fmt.make(case["number"]) == case["tag"]
        assert fmt.validate(case["tag"]) == case["tag"]
        assert fmt.number(case["tag"]) == case["number"]
    for case in f["normalised"]:
        assert fmt.validate(case["input"]) == case["tag"], case
    for case in f["invalid"]:
        assert fmt.reason(case["input"]) == case["reason"], case
        assert not fmt.is_valid(case["input"])
        with pytest.raises(InvalidTag) as e:
            fmt.validate(case["input"])
        assert e.value.reason == case["reason"]


@pytest.mark.parametrize("f", PAYLOADS["formats"], ids=lambda f: f"{f['prefix']}/{f['digits']}")
def test_payload_vectors(f):
    fmt = TagFormat(f["prefix"], f["digits"])
    for case in f["cases"]:
        got = parse(case["text"], fmt)
        want = case["expect"]
        assert got.kind == want["kind"], case
        if want["kind"] == "tag":
            assert got.tag == want["tag"]  # type: ignore[union-attr]
        else:
            assert got.text == case["text"]  # type: ignore[union-attr]
        if want["kind"] == "misread":
            assert got.reason == want["reason"]  # type: ignore[union-attr]


@pytest.mark.parametrize("case", PAYLOADS["urls"], ids=lambda c: c["url"])
def test_url_vectors(case):
    assert encode_url(case["base"], case["tag"]) == case["url"]


@pytest.mark.parametrize("base", PAYLOADS["badBases"])
def test_bad_bases(base):
    with pytest.raises(InvalidBaseUrl):
        encode_url(base, TagFormat().make(1))


@pytest.mark.parametrize("case", PAYLOADS["badTags"], ids=lambda c: c["reason"])
def test_bad_tags_in_urls(case):
    with pytest.raises(InvalidTag) as e:
        encode_url("https://outpost.example.com", case["tag"])
    assert e.value.reason == case["reason"]
