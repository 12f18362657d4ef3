"""Pagination of every list (pages and API) with a capped count: "more than 10 000", never a scan of the table.

An exact ``COUNT(*)`` of a list costs as much as reading every row it counts: at a million transits the count
of Togo's customs list (every transit, each probed against its route's stops) was 85 % of the page's time
(issue #13). Nobody pages through ten thousand rows; they filter. So a list counts its rows only up to
``COUNT_CAP`` past what the page asked needs — ``SELECT COUNT(*) FROM (… LIMIT cap + 1)``, which stops after
``cap + 1`` rows walked in the list's own order (its index) — and says "more than 10 000" when there are more.

We cap rather than estimate (``pg_class.reltuples`` or ``EXPLAIN``'s row estimate): an estimate is cheap only for
a whole table, not for "transits whose route crosses Togo and that match this search", and a wrong figure shown
as a count misleads; a cap is exact below it and honest above it. A page past the cap still works: the count then
runs to the end of that page plus one row (the cost of reaching it is the OFFSET's anyway), so "Next" is offered
as long as a row follows.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.db.models.query import ModelIterable
from django.utils.functional import cached_property

COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    """A Paginator whose ``count`` stops at ``cap`` rows past the page asked (``capped`` then says so).

    ``count`` is the rows seen, at most ``limit + 1`` where ``limit = max(cap, last row of the page asked)``: the
    extra row is what tells that more follow, so ``num_pages`` and ``has_next`` stay right. Show ``shown_count``
    (``limit`` when capped) with "more than" when ``capped``."""

    def __init__(self, object_list, per_page, *args, cap: int = COUNT_CAP, **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        self.cap = cap
        self.asked = 1

    def validate_number(self, number):
        # Called by page() and get_page() before anything reads the count: the count must reach this page.
        try:
            asked = int(number)
        except (TypeError, ValueError):
            asked = 1
        if asked > 1 and "count" not in self.__dict__:
            self.asked = asked
        return super().validate_number(number)

    @property
    def limit(self) -> int:
        return max(self.cap, self.asked * self.per_page)

    @cached_property
    def count(self) -> int:
        limit = self.limit
        objects = self.object_list
        if hasattr(objects, "count") and callable(objects.count) and hasattr(objects, "query"):
            # Without ORDER BY: which rows are counted does not change how many (at most limit + 1), and the
            # planner is then free to probe in the cheapest order (a merge on the ids rather than the list's
            # own order, four times faster for the customs' list).
            seen = objects.order_by()[: limit + 1].count()
        else:
            seen = len(objects[: limit + 1])
        return seen

    def page(self, number):
        """The page's rows in two steps, a "deferred join": first the ids of the page (the list's filters and
        order, nothing else joined), then those rows with everything the page shows. Read in one step, every row
        skipped by the OFFSET was joined to its hold, offices, corridor and principal first: page 50 of the API's
        transits joined 2 500 rows to show 50 (150 ms at a million transits, issue #13)."""
        objects = self.object_list
        if (not isinstance(objects, QuerySet) or objects._iterable_class is not ModelIterable
                or objects.query.combinator or objects.query.is_sliced):
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = list(objects.values_list("pk", flat=True)[bottom:top])
        return self._get_page(objects.filter(pk__in=ids), number, self)

    @property
    def capped(self) -> bool:
        """Whether there are more rows than ``shown_count``."""
        return self.count > self.limit

    @property
    def shown_count(self) -> int:
        """What to show as the number of rows: exact, or (``capped``) the number it is more than."""
        return min(self.count, self.limit)

    @property
    def shown_count_text(self) -> str:
        """``shown_count`` with its thousands grouped as the registry writes them: ``10 000``."""
        from guarantees.formats import THOUSANDS_SEPARATOR

        return f"{self.shown_count:,}".replace(",", THOUSANDS_SEPARATOR)

    @property
    def shown_pages(self) -> int:
        """Pages known to be full or last: with ``capped``, there are more than this."""
        if self.count > self.limit:
            return self.limit // self.per_page
        return self.num_pages
