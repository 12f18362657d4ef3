"""Schemathesis hooks for the contract run (loaded with ``SCHEMATHESIS_HOOKS``).

``positive_data_acceptance`` says that a request valid by the schema must be accepted. The registry has a few
rules OpenAPI 3.0 cannot state, each written in its field's or operation's description; a 400 that cites only
those is the documented answer, not a broken contract. Anything else — a 400 on any other field, or of any other
code — still fails the run, so the check keeps its teeth:

- the registry's clock and the guarantee's validity: a date from 2000-01-01 to a day after now, a declaration
  within its guarantee's validity, not in the future, its time limit not past (``declared_at``, ``occurred_at``,
  ``as_of``);
- one field depending on another: ``amount_released`` only, and always, with a partial discharge; a declaration
  needs ``amount`` or ``goods``, and goods that put duties at stake;
- reference data: offices, corridors and routes known to the registry, in covered countries;
- a discharge file's content (``invalid_file``): UTF-8 CSV with its header, or JSON events — a schema can say
  "binary" but not "a CSV file".
"""

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

DOCUMENTED_RULES = frozenset({
    "declared_at", "occurred_at", "as_of",
    "amount_released", "amount", "goods",
    "office_of_departure", "office_of_destination", "route", "corridor", "office",
})


def cites_only_documented_rules(status_code: int, body) -> bool:
    if status_code != 400 or not isinstance(body, dict):
        return False
    if body.get("code") == "invalid_file":
        return True
    errors = body.get("errors")
    # ``invalid`` (the serializers), or the registry's own refusals of a date, an amount's relation to another
    # field, or offices (guarantees.limits), each naming its field.
    return (body.get("code") in {"invalid", "date_out_of_range", "invalid_offices"} and bool(errors)
            and set(errors) <= DOCUMENTED_RULES)


@schemathesis.check
def positive_data_acceptance_but_documented_rules(ctx, response, case):
    try:
        body = response.json()
    except Exception:  # noqa: BLE001 - not JSON: the other checks say so
        body = None
    if cites_only_documented_rules(response.status_code, body):
        return None
    return positive_data_acceptance(ctx, response, case)
