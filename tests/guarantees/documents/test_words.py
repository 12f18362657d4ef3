"""Amounts in words: the French rules (traditional spelling) and English, on a table of amounts."""

import pytest

from guarantees.documents.words import amount_in_words, english_amount, french_amount, french_number

FRENCH = [
    (0, "zéro franc CFA"),
    (1, "un franc CFA"),
    (2, "deux francs CFA"),
    (16, "seize francs CFA"),
    (17, "dix-sept francs CFA"),
    (21, "vingt et un francs CFA"),
    (22, "vingt-deux francs CFA"),
    (71, "soixante et onze francs CFA"),
    (77, "soixante-dix-sept francs CFA"),
    (80, "quatre-vingts francs CFA"),
    (81, "quatre-vingt-un francs CFA"),
    (91, "quatre-vingt-onze francs CFA"),
    (99, "quatre-vingt-dix-neuf francs CFA"),
    (100, "cent francs CFA"),
    (101, "cent un francs CFA"),
    (180, "cent quatre-vingts francs CFA"),
    (200, "deux cents francs CFA"),
    (201, "deux cent un francs CFA"),
    (280, "deux cent quatre-vingts francs CFA"),
    (1_000, "mille francs CFA"),
    (1_001, "mille un francs CFA"),
    (2_000, "deux mille francs CFA"),
    (21_000, "vingt et un mille francs CFA"),
    (80_000, "quatre-vingt mille francs CFA"),
    (200_000, "deux cent mille francs CFA"),
    (1_000_000, "un million de francs CFA"),
    (1_500_000, "un million cinq cent mille francs CFA"),
    (2_000_000, "deux millions de francs CFA"),
    (50_000_000, "cinquante millions de francs CFA"),
    (71_750_000, "soixante et onze millions sept cent cinquante mille francs CFA"),
    (80_000_000, "quatre-vingts millions de francs CFA"),
    (200_000_000, "deux cents millions de francs CFA"),
    (1_000_000_000, "un milliard de francs CFA"),
    (2_500_000_000, "deux milliards cinq cents millions de francs CFA"),
    (1_000_200_300, "un milliard deux cent mille trois cents francs CFA"),
]

ENGLISH = [
    (0, "zero CFA francs"),
    (1, "one CFA franc"),
    (21, "twenty-one CFA francs"),
    (80, "eighty CFA francs"),
    (101, "one hundred one CFA francs"),
    (200, "two hundred CFA francs"),
    (1_000_000, "one million CFA francs"),
    (50_000_000, "fifty million CFA francs"),
    (71_750_000, "seventy-one million seven hundred fifty thousand CFA francs"),
    (1_000_000_000, "one billion CFA francs"),
]


@pytest.mark.parametrize(("amount", "words"), FRENCH, ids=[str(a) for a, _w in FRENCH])
def test_french(amount, words):
    assert french_amount(amount) == words
    assert amount_in_words(amount, "fr") == words


@pytest.mark.parametrize(("amount", "words"), ENGLISH, ids=[str(a) for a, _w in ENGLISH])
def test_english(amount, words):
    assert english_amount(amount) == words
    assert amount_in_words(amount, "en") == words


def test_spacing_and_invariable_mille_up_to_two_millions():
    for n in range(0, 2_000_001, 997):
        text = french_number(n)
        assert "  " not in text and text == text.strip()
        assert not text.startswith("un mille"), n  # 1 000 is "mille"
        assert "milles" not in text and "cents mille" not in text and "vingts mille" not in text, n


@pytest.mark.parametrize("bad", [-1, 1.5, "12", True, 10**15])
def test_refuses_what_is_not_a_whole_amount(bad):
    with pytest.raises((TypeError, ValueError)):
        french_amount(bad)
