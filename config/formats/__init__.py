"""Date and time formats of the registry's two languages (``FORMAT_MODULE_PATH``).

West African readers write dates day/month/year and times on a 24-hour clock, in French and in English alike:
Django's own English formats (month/day, "p.m.") would read wrong beside the French ones. Both languages use
the same formats; only the words differ.
"""
