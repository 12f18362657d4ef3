"""The machine codes of the API's errors, by HTTP status: those the one exception handler gives itself and those of
the tree of domain errors. Read by the schema (each error status's enum) and by the serializers (a stored event's
``error_code``); it imports neither, so neither imports the other through it."""

from accounts.errors import DomainError, http_status

# The codes the exception handler (guarantees.api.exception_handler.error_body) gives itself, by status.
HANDLER_CODES: dict[int, tuple[str, ...]] = {
    400: ("invalid", "parse_error", "bad_request", "invalid_file"),
    401: ("not_authenticated",),
    403: ("permission_denied", "not_allowed"),
    404: ("not_found",),
    405: ("method_not_allowed",),
    406: ("not_acceptable",),
    409: (),
    413: ("too_large",),
    415: ("unsupported_media_type",),
    429: ("throttled", "too_many_attempts"),
}

# Why an event was kept but refused (403 ``event_refused``'s ``reason``, and a stored event's ``error_code``).
EVENT_REFUSAL_REASONS = (
    "sender_not_allowed",
    "office_not_allowed",
    "office_not_yours",
    "dated_before_declaration",
    "dated_in_future",
    "not_on_route",
    "above_held",
)


def _subclasses(cls) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(_subclasses(sub))
    return out


def _import_error_trees() -> None:
    # The registry's own refusals live in guarantees.errors and guarantees.limits (amounts, dates, offices);
    # import them so that their classes are in the tree.
    import guarantees.errors  # noqa: F401
    import guarantees.limits  # noqa: F401


def domain_codes(status: int) -> list[str]:
    """Every domain error's code whose family answers with ``status``."""
    _import_error_trees()
    codes = set()
    for cls in [DomainError, *_subclasses(DomainError)]:
        if cls is DomainError:
            continue
        instance = cls.__new__(cls)  # the family is the class's; no need to build the message
        if http_status(instance) == status:
            codes.add(cls.code)
    return sorted(codes)


def error_codes(status: int) -> list[str]:
    return sorted(set(HANDLER_CODES.get(status, ())) | set(domain_codes(status)))


def event_error_codes() -> list[str]:
    """What a stored event's ``error_code`` may hold: a refusal's reason, or the code of the domain error that
    stopped it when applied; empty when it was not refused."""
    codes = set(EVENT_REFUSAL_REASONS)
    for status in (400, 403, 404, 409):
        codes |= set(domain_codes(status))
    return ["", *sorted(codes)]
