"""The API's serializers copy their declared fields shallowly (guarantees.api.serializers.Serializer): each
instance must still get fields bound to itself, leave the class's declared fields untouched, and validate
independently of other instances, in other threads too."""

import threading

from guarantees.api.serializers import TransitDeclareIn, TransitEventIn


def _body(ref: str, **over) -> dict:
    body = {
        "declaration_ref": ref, "grn": "26BF000000000017-39", "access_code": "7K2Q",
        "office_of_departure": "tglome", "office_of_destination": "BFOUAG", "route": ["TGCINK", "bfcink"],
        "corridor": "LOM-OUA", "declared_at": "2026-03-02T09:15:00Z", "amount": 4_500_000,
        "goods": [{"hs_code": "100630", "customs_value": 25_000_000}],
        "transport": {"vehicle": "BF-1234-AB", "containers": ["MSCU1234567"]},
    }
    body.update(over)
    return body


def test_each_instance_has_its_own_fields_bound_to_it():
    first, second = TransitDeclareIn(data=_body("A")), TransitDeclareIn(data=_body("B"))
    for name in ("grn", "route", "goods", "transport"):
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first and second.fields[name].parent is second
        assert first.fields[name].field_name == name
        declared = TransitDeclareIn._declared_fields[name]
        assert declared.parent is None and declared.field_name is None  # never bound itself
    assert first.fields["transport"].fields["vehicle"].parent is first.fields["transport"]
    assert first.fields["transport"].fields["vehicle"] is not second.fields["transport"].fields["vehicle"]


def test_validation_is_the_same_as_before_and_independent():
    good, bad = TransitDeclareIn(data=_body("A")), TransitDeclareIn(
        data=_body("B", goods=[{"hs_code": "12", "customs_value": 1.5}], route=["??"], amount="1"))
    assert good.is_valid(), good.errors
    assert not bad.is_valid()
    assert set(bad.errors) == {"goods", "route", "amount"}
    assert good.validated_data["office_of_departure"] == "TGLOME" and good.validated_data["route"] == [
        "TGCINK", "BFCINK"]
    assert good.validated_data["goods"][0]["customs_value"] == 25_000_000
    # The failing instance left nothing behind for the next one.
    assert TransitDeclareIn(data=_body("C")).is_valid()


def test_instances_in_threads_do_not_see_each_other():
    failures = []

    def run(n: int):
        for i in range(200):
            ok = (n + i) % 2 == 0
            body = _body(f"T-{n}-{i}") if ok else _body(f"T-{n}-{i}", transport={"containers": ["X" * 50]})
            serializer = TransitDeclareIn(data=body)
            if serializer.is_valid() != ok:
                failures.append((n, i, serializer.errors))
            elif ok and serializer.validated_data["declaration_ref"] != f"T-{n}-{i}":
                failures.append((n, i, "crossed"))
            event = TransitEventIn(data={"message_id": f"M-{n}-{i}", "type": "discharge", "office": "bfouag",
                                         "occurred_at": "2026-03-04T10:00:00Z"})
            if not event.is_valid() or event.validated_data["office"] != "BFOUAG":
                failures.append((n, i, event.errors))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
