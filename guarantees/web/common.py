"""What every page of the registry shares: permission checks, the narrowed querysets, list pages, refusals shown
in words. (The shape of an action page is ``guarantees.web.actions``.)

The order of the checks is the contract of the access matrix: not signed in → the sign-in page; signed in but
without the permission → 403; with the permission but the object belongs to another organisation (it is not in
``guarantees_visible_to``) → 404. A business rule that refuses the action (``DomainError``) is shown as a
message or a form error in French, never as a server error.
"""


from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from guarantees.errors import DomainError
from guarantees.models import Amendment, Guarantee
from guarantees.selectors.guarantees import guarantees_visible_to
from guarantees.formats import format_fcfa
from guarantees.pagination import CappedPaginator

PAGE_SIZE = 25


def require(request: HttpRequest, *permissions: str) -> None:
    """403 unless the user holds at least one of ``permissions``."""
    if not any(request.user.can(p) for p in permissions):
        raise PermissionDenied


def form_data(request: HttpRequest):
    """The submitted data of a POST (even an empty one: a confirmation has no field), ``None`` otherwise."""
    return request.POST if request.method == "POST" else None


def visible(request: HttpRequest):
    return guarantees_visible_to(user=request.user)


def get_guarantee(request: HttpRequest, pk: int) -> Guarantee:
    return get_object_or_404(visible(request), pk=pk)


def get_amendment(request: HttpRequest, pk: int) -> Amendment:
    return get_object_or_404(
        Amendment.objects.select_related("guarantee__bank__organisation", "guarantee__principal"),
        pk=pk, guarantee__in=visible(request),
    )


# Figures a refusal may carry (``DomainError.extra``), shown after its message so the user sees why.
_FIGURES = (
    ("ceiling", pgettext_lazy("figure", "exposure ceiling")),
    ("exposure", pgettext_lazy("figure", "current exposure")),
    ("amount", pgettext_lazy("figure", "amount asked")),
    ("room", pgettext_lazy("figure", "room under the ceiling")),
    ("committed", pgettext_lazy("figure", "held, claimed and paid")),
    ("held", pgettext_lazy("figure", "held")),
    ("claimed", pgettext_lazy("figure", "claimed")),
    ("paid", pgettext_lazy("figure", "paid")),
    ("available", pgettext_lazy("figure", "available")),
)


def domain_error_text(exc: DomainError) -> str:
    """The French sentence of a refusal followed by its figures: "… (plafond : 1 000 000 FCFA ; …)"."""
    figures = [
        # Translators: one figure of a refusal, e.g. "plafond : 1 000 000 FCFA" (mind the French space).
        _("%(label)s: %(value)s") % {"label": label, "value": format_fcfa(exc.extra[key])}
        for key, label in _FIGURES
        if isinstance(exc.extra.get(key), int)
    ]
    text = str(exc.message)
    return f"{text} ({'; '.join(figures)})" if figures else text


def add_domain_error(request: HttpRequest, exc: DomainError, form=None) -> None:
    """Show a refusal: as a form error when there is a form, else as a message."""
    if form is not None:
        form.add_error(None, domain_error_text(exc))
    else:
        messages.error(request, domain_error_text(exc))


def paginate(request: HttpRequest, queryset, *, per_page: int = PAGE_SIZE, page_param: str = "page"):
    """The requested page of ``queryset`` and the rest of the query string, for the page links to keep the
    filters (and the other lists' pages). The count is capped (``guarantees.pagination``): templates show
    ``paginator.shown_count`` with "more than" when ``paginator.capped``."""
    paginator = CappedPaginator(queryset, per_page)
    page = paginator.get_page(request.GET.get(page_param))
    query = request.GET.copy()
    query.pop(page_param, None)
    return page, query.urlencode()


def guarantee_url(guarantee: Guarantee) -> str:
    from django.urls import reverse

    return reverse("guarantees:detail", args=[guarantee.pk])


def not_possible_text() -> str:
    return _("This action is not possible in the current status.")
