"""Amounts in words, French and English, as printed under the figures on a certificate.

French follows the **traditional** spelling (not the 1990 rectification): hyphens join tens and units below
one hundred only (« quarante-deux », « quatre-vingt-dix-sept »), never around « cent », « mille », « million »;
« et » joins « un » / « onze » to twenty to sixty and seventy (« vingt et un », « soixante et onze », but
« quatre-vingt-un »). « vingt » and « cent » take an « s » when multiplied and ending the number, and before
« million(s) » / « milliard(s) », which are nouns (« quatre-vingts », « deux cents millions »), but not before
« mille », which is invariable (« deux cent mille », « quatre-vingt mille »); 1 000 is « mille », never
« un mille ». A round number of millions or milliards takes « de » before the currency (« un million de francs
CFA », « cinquante millions de francs CFA »); zero and one franc are singular (« zéro franc CFA »).

English follows the usage of cheques (no "and" after "hundred"): "seventy-one million seven hundred fifty
thousand CFA francs", "one CFA franc", "zero CFA francs".
"""

FR_UNITS = [
    "zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze", "douze",
    "treize", "quatorze", "quinze", "seize", "dix-sept", "dix-huit", "dix-neuf",
]
FR_TENS = {2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante", 6: "soixante"}

# Scales above a thousand, as (value, singular, plural). "mille" is handled apart: it is invariable.
FR_SCALES = [
    (10**12, "billion", "billions"),
    (10**9, "milliard", "milliards"),
    (10**6, "million", "millions"),
]

EN_UNITS = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
]
EN_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
EN_SCALES = [(10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (10**3, "thousand")]

MAX_AMOUNT = 10**15 - 1


def _check(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError("an amount in words needs a whole number of francs")
    if n < 0 or n > MAX_AMOUNT:
        raise ValueError(f"amount out of range: {n}")


# --- French --------------------------------------------------------------------------------------


def _fr_below_100(n: int, *, final: bool) -> str:
    """0 < n < 100. ``final``: nothing multiplies this group afterwards except a noun (million...)."""
    if n < 20:
        return FR_UNITS[n]
    tens, unit = divmod(n, 10)
    if tens in FR_TENS:
        word = FR_TENS[tens]
        if unit == 0:
            return word
        if unit == 1:
            return f"{word} et un"
        return f"{word}-{FR_UNITS[unit]}"
    if tens == 7:  # soixante-dix ... soixante-dix-neuf
        if unit == 1:
            return "soixante et onze"
        return f"soixante-{FR_UNITS[10 + unit]}"
    if tens == 8:  # quatre-vingts, quatre-vingt-un ... (no "et")
        if unit == 0:
            return "quatre-vingts" if final else "quatre-vingt"
        return f"quatre-vingt-{FR_UNITS[unit]}"
    # tens == 9: quatre-vingt-dix ... quatre-vingt-dix-neuf
    return f"quatre-vingt-{FR_UNITS[10 + unit]}"


def _fr_below_1000(n: int, *, final: bool) -> str:
    """0 < n < 1000. ``final`` is False when "mille" follows (then "vingt" and "cent" stay invariable)."""
    hundreds, rest = divmod(n, 100)
    words = []
    if hundreds:
        if hundreds == 1:
            words.append("cent")
        elif rest == 0 and final:
            words.append(f"{FR_UNITS[hundreds]} cents")
        else:
            words.append(f"{FR_UNITS[hundreds]} cent")
    if rest:
        words.append(_fr_below_100(rest, final=final))
    return " ".join(words)


def french_number(n: int) -> str:
    """``71_750_000`` → ``"soixante et onze millions sept cent cinquante mille"``."""
    _check(n)
    if n == 0:
        return FR_UNITS[0]
    words = []
    for value, singular, plural in FR_SCALES:
        count, n = divmod(n, value)
        if count:
            # Before a noun (million, milliard) "vingt" and "cent" keep their plural: "quatre-vingts millions".
            words.append(f"{_fr_below_1000(count, final=True)} {singular if count == 1 else plural}")
    thousands, units = divmod(n, 1000)
    if thousands:
        words.append("mille" if thousands == 1 else f"{_fr_below_1000(thousands, final=False)} mille")
    if units:
        words.append(_fr_below_1000(units, final=True))
    return " ".join(words)


def french_amount(n: int) -> str:
    """``50_000_000`` → ``"cinquante millions de francs CFA"``; ``1`` → ``"un franc CFA"``."""
    text = french_number(n)
    if n < 2:
        return f"{text} franc CFA"
    # A round number of millions (or more) is a noun phrase: "un million de francs", "deux milliards de francs".
    if n % 10**6 == 0:
        return f"{text} de francs CFA"
    return f"{text} francs CFA"


# --- English -------------------------------------------------------------------------------------


def _en_below_1000(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    words = []
    if hundreds:
        words.append(f"{EN_UNITS[hundreds]} hundred")
    if rest:
        if rest < 20:
            words.append(EN_UNITS[rest])
        else:
            tens, unit = divmod(rest, 10)
            words.append(EN_TENS[tens] if unit == 0 else f"{EN_TENS[tens]}-{EN_UNITS[unit]}")
    return " ".join(words)


def english_number(n: int) -> str:
    """``71_750_000`` → ``"seventy-one million seven hundred fifty thousand"``."""
    _check(n)
    if n == 0:
        return EN_UNITS[0]
    words = []
    for value, name in EN_SCALES:
        count, n = divmod(n, value)
        if count:
            words.append(f"{_en_below_1000(count)} {name}")
    if n:
        words.append(_en_below_1000(n))
    return " ".join(words)


def english_amount(n: int) -> str:
    text = english_number(n)
    return f"{text} CFA franc" if n == 1 else f"{text} CFA francs"


def amount_in_words(amount: int, language: str) -> str:
    """The amount in words in ``language`` (``fr`` or ``en``; any other language falls back to French)."""
    if (language or "").lower().startswith("en"):
        return english_amount(amount)
    return french_amount(amount)
