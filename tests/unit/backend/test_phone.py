"""Phone numbers: the fast path for mainland mobiles agrees with phonenumbers, everything else asks it."""

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain.customers.services import _CN_MOBILE, check_phone
from backend.errors import ValidationFailed


@given(st.from_regex(_CN_MOBILE, fullmatch=True))
def test_every_number_the_fast_path_accepts_is_possible_for_phonenumbers(phone):
    assert phonenumbers.is_possible_number(phonenumbers.parse(phone, "CN")), phone
    check_phone(phone)


@pytest.mark.parametrize("phone", ["+86 139 1234 5678", "020-8888 6666", "(020) 88886666", "+1 650 253 0000"])
def test_other_valid_formats_are_accepted_by_phonenumbers(phone):
    assert not _CN_MOBILE.fullmatch(phone)
    check_phone(phone)


def test_an_ip_dialling_prefix_is_not_taken_for_a_mobile():
    assert not _CN_MOBILE.fullmatch("17900001000")  # 17900 + 00: phonenumbers reads a call abroad
    assert _CN_MOBILE.fullmatch("17912345678")


@pytest.mark.parametrize("phone", ["999", "139123456789012345", "abc", "13 9"])
def test_impossible_numbers_are_refused_with_the_number(phone):
    with pytest.raises(ValidationFailed) as e:
        check_phone(phone)
    assert e.value.code == "invalid-phone" and e.value.params == {"phone": phone}
