"""The pages of the registry: guarantees for every role, the bank's, customs' and the secretariat's desks."""

from django.urls import path

from guarantees.views import bank, customs, guarantees, secretariat

app_name = "guarantees"

urlpatterns = [
    # Every role: the guarantees it may see. The principal's requests, amendments and access codes.
    path("guarantees/", guarantees.guarantee_list, name="list"),
    path("guarantees/request/", guarantees.guarantee_request_view, name="request"),
    path("guarantees/<int:pk>/", guarantees.guarantee_detail, name="detail"),
    path("guarantees/<int:pk>/edit/", guarantees.guarantee_edit, name="edit"),
    path("guarantees/<int:pk>/submit/", guarantees.guarantee_submit_view, name="submit"),
    path("guarantees/<int:pk>/withdraw/", guarantees.guarantee_withdraw_view, name="withdraw"),
    path("guarantees/<int:pk>/amend/", guarantees.amendment_request_view, name="amend"),
    path("amendments/<int:pk>/withdraw/", guarantees.amendment_withdraw_view, name="amendment_withdraw"),
    path("guarantees/<int:pk>/access-codes/", guarantees.access_codes, name="access_codes"),
    path(
        "guarantees/<int:pk>/access-codes/<int:code_pk>/revoke/",
        guarantees.access_code_revoke_view,
        name="access_code_revoke",
    ),
    # Guarantor bank: maker and checker.
    path("bank/queue/", bank.bank_queue, name="bank_queue"),
    path("bank/portfolio/", bank.portfolio, name="portfolio"),
    path("guarantees/<int:pk>/prepare/", bank.guarantee_prepare_view, name="prepare"),
    path("guarantees/<int:pk>/confirm/", bank.guarantee_confirm_view, name="confirm"),
    path("guarantees/<int:pk>/decline/", bank.guarantee_decline_view, name="decline"),
    path("amendments/<int:pk>/prepare/", bank.amendment_prepare_view, name="amendment_prepare"),
    path("amendments/<int:pk>/confirm/", bank.amendment_confirm_view, name="amendment_confirm"),
    path("amendments/<int:pk>/decline/", bank.amendment_decline_view, name="amendment_decline"),
    # Customs.
    path("customs/queue/", customs.customs_queue, name="customs_queue"),
    path("customs/lookup/", customs.lookup, name="lookup"),
    path("guarantees/<int:pk>/accept/", customs.guarantee_accept_view, name="accept"),
    path("guarantees/<int:pk>/suspend/", customs.guarantee_suspend_view, name="suspend"),
    path("guarantees/<int:pk>/reactivate/", customs.guarantee_reactivate_view, name="reactivate"),
    path("guarantees/<int:pk>/cancel/", customs.guarantee_cancel_view, name="cancel"),
    # Regional secretariat.
    path("secretariat/banks/", secretariat.banks, name="banks"),
    path("secretariat/banks/<int:pk>/", secretariat.bank_detail, name="bank_detail"),
]

# Transits, bulk discharge files (customs) and the API keys of the customs systems (secretariat).
from guarantees.views import api_keys as api_key_views, transits as transit_views  # noqa: E402

urlpatterns += [
    path("transits/", transit_views.transit_list, name="transits"),
    path("transits/<path:declaration_ref>/", transit_views.transit_detail, name="transit_detail"),
    path("discharges/", transit_views.discharge_job_list, name="discharge_jobs"),
    path("discharges/upload/", transit_views.discharge_upload, name="discharge_upload"),
    path("discharges/<int:pk>/", transit_views.discharge_job, name="discharge_job"),
    path("secretariat/api-keys/", api_key_views.api_key_list, name="api_keys"),
    path("secretariat/api-keys/<int:pk>/revoke/", api_key_views.api_key_revoke_view, name="api_key_revoke"),
]
