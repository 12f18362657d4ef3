import pytest

from guarantees.grn import check_digits, grn_format, grn_is_valid


def test_grn_has_year_country_serial_and_mod97_check():
    grn = grn_format(year=2026, country="BF", serial=12345)
    assert grn.startswith("26BF000000012345-")
    assert len(grn) == 19
    assert grn_is_valid(grn)


@pytest.mark.parametrize("serial", [1, 42, 99_999, 123_456_789_012])
def test_every_single_character_typo_is_caught(serial):
    grn = grn_format(year=2026, country="NE", serial=serial)
    body = grn[:-3]
    for i, ch in enumerate(body):
        for replacement in "0123456789" if ch.isdigit() else "ABZ":
            if replacement == ch:
                continue
            typo = body[:i] + replacement + body[i + 1:] + grn[-3:]
            assert not grn_is_valid(typo), typo


def test_swapped_neighbours_are_caught():
    grn = grn_format(year=2026, country="TG", serial=120_034)
    body = grn[:-3]
    for i in range(len(body) - 1):
        if body[i] == body[i + 1]:
            continue
        swapped = body[:i] + body[i + 1] + body[i] + body[i + 2:] + grn[-3:]
        assert not grn_is_valid(swapped), swapped


def test_check_digits_follow_iso_7064_mod_97_10_as_in_iban():
    # The IBAN example of ISO 13616 moved to the front: GB82 WEST 1234 5698 7654 32.
    assert check_digits("WEST12345698765432GB") == "82"


def test_lowercase_and_spaces_are_accepted():
    grn = grn_format(year=2026, country="ML", serial=7)
    assert grn_is_valid(" " + grn.lower() + " ")


def test_garbage_is_not_a_grn():
    assert not grn_is_valid("")
    assert not grn_is_valid("26BF0000000123-00")
