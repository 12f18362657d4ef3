"""Routes of ``/api/v1/``. Paths have no trailing slash, as in API.md; anything else under the prefix is a
JSON 404."""

from django.urls import path, re_path

from guarantees.api import offline, views
from guarantees.api.exception_handler import api_not_found

GRN = r"(?P<grn>[A-Za-z0-9.\-]{1,40})"
REF = r"(?P<declaration_ref>[A-Za-z0-9][A-Za-z0-9._\-]{0,63})"

guarantee_list = views.GuaranteeViewSet.as_view({"get": "list"})
guarantee_detail = views.GuaranteeViewSet.as_view({"get": "retrieve"})
guarantee_check = views.GuaranteeViewSet.as_view({"post": "check"})
transit_list = views.TransitViewSet.as_view({"get": "list", "post": "create"})
transit_detail = views.TransitViewSet.as_view({"get": "retrieve"})
transit_events = views.TransitViewSet.as_view({"post": "events"})
discharge_files = views.DischargeFileViewSet.as_view({"post": "create"})
job_detail = views.JobViewSet.as_view({"get": "retrieve"})

app_name = "api"

urlpatterns = [
    path("guarantees", guarantee_list, name="guarantee-list"),
    re_path(rf"^guarantees/{GRN}/check$", guarantee_check, name="guarantee-check"),
    re_path(rf"^guarantees/{GRN}$", guarantee_detail, name="guarantee-detail"),
    path("transits", transit_list, name="transit-list"),
    re_path(rf"^transits/{REF}/events$", transit_events, name="transit-events"),
    re_path(rf"^transits/{REF}$", transit_detail, name="transit-detail"),
    path("discharges/files", discharge_files, name="discharge-files"),
    re_path(r"^jobs/(?P<pk>[0-9]{1,18})$", job_detail, name="job-detail"),
    # Offline verification: public keys and the signed status list (no authentication).
    path("offline/keys", offline.OfflineKeysView.as_view(), name="offline-keys"),
    path("offline/status-list", offline.OfflineStatusListView.as_view(), name="offline-status-list"),
    path("offline/status-list.cbor", offline.OfflineStatusListCborView.as_view(), name="offline-status-list-cbor"),
    re_path(r"^.*$", api_not_found),
]

# The reconciliation of open transits (guarantees.api.reconciliation), inserted before the catch-all 404 above.
from guarantees.api import reconciliation as _reconciliation  # noqa: E402

_catch_all = next(i for i, p in enumerate(urlpatterns) if getattr(p, "callback", None) is api_not_found)
urlpatterns[_catch_all:_catch_all] = [
    path("reconciliations", _reconciliation.reconciliation_create, name="reconciliation-list"),
    re_path(r"^reconciliations/(?P<pk>[0-9]{1,18})$", _reconciliation.reconciliation_detail,
            name="reconciliation-detail"),
]
