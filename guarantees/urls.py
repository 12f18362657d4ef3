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
    path("guarantees/<int:pk>/send-back/", bank.guarantee_send_back_view, name="send_back"),
    path("amendments/<int:pk>/prepare/", bank.amendment_prepare_view, name="amendment_prepare"),
    path("amendments/<int:pk>/confirm/", bank.amendment_confirm_view, name="amendment_confirm"),
    path("amendments/<int:pk>/decline/", bank.amendment_decline_view, name="amendment_decline"),
    path("amendments/<int:pk>/send-back/", bank.amendment_send_back_view, name="amendment_send_back"),
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

# Certificates: the signed PDF of each version, and the public verification page the QR code leads to.
from guarantees.views import certificates as certificate_views  # noqa: E402

urlpatterns += [
    path(
        "guarantees/<int:pk>/certificates/<int:number>/",
        certificate_views.certificate_download,
        name="certificate_download",
    ),
    path("verify/", certificate_views.verify_start, name="verify_start"),
    path("verify/<str:grn>/", certificate_views.verify, name="verify"),
]

# Invoking a guarantee: enquiries, manual releases by customs, claims to the guarantor bank and their letters.
from guarantees.views import claims as claim_views  # noqa: E402

urlpatterns += [
    path("enquiries/", claim_views.enquiry_list, name="enquiries"),
    path("enquiries/new/<int:transit_pk>/", claim_views.enquiry_open_view, name="enquiry_open"),
    path("enquiries/<int:pk>/", claim_views.enquiry_detail, name="enquiry_detail"),
    path("enquiries/<int:pk>/answer/", claim_views.enquiry_answer_view, name="enquiry_answer"),
    path("enquiries/<int:pk>/close/", claim_views.enquiry_close_view, name="enquiry_close"),
    path("enquiries/documents/<int:pk>/", claim_views.enquiry_document, name="enquiry_document"),
    path("releases/new/<int:transit_pk>/", claim_views.release_propose_view, name="release_propose"),
    path("releases/<int:pk>/approve/", claim_views.release_approve_view, name="release_approve"),
    path("releases/<int:pk>/refuse/", claim_views.release_refuse_view, name="release_refuse"),
    path("claims/", claim_views.claim_list, name="claims"),
    path("claims/new/<int:transit_pk>/", claim_views.claim_issue_view, name="claim_issue"),
    path("claims/<int:pk>/", claim_views.claim_detail, name="claim_detail"),
    path("claims/<int:pk>/examine/", claim_views.claim_examine_view, name="claim_examine"),
    path("claims/<int:pk>/prepare/", claim_views.claim_prepare_view, name="claim_prepare"),
    path("claims/<int:pk>/pay/", claim_views.claim_pay_view, name="claim_pay"),
    path("claims/<int:pk>/reject/", claim_views.claim_reject_view, name="claim_reject"),
    path("claims/<int:pk>/reissue/", claim_views.claim_reissue_view, name="claim_reissue"),
    path("claims/<int:pk>/withdraw/", claim_views.claim_withdraw_view, name="claim_withdraw"),
    path("claims/<int:pk>/letter.pdf", claim_views.claim_letter, name="claim_letter"),
    path("claims/<int:pk>/rejection.pdf", claim_views.claim_rejection_notice, name="claim_rejection_notice"),
]

# Background work: everyone's notifications, the reconciliation of open transits (customs, secretariat), and the
# failed tasks (secretariat).
from guarantees.views import operations as operation_views  # noqa: E402

urlpatterns += [
    path("notifications/", operation_views.notification_list, name="notifications"),
    path("notifications/read-all/", operation_views.notifications_read_all, name="notifications_read_all"),
    path("notifications/<int:pk>/read/", operation_views.notification_open, name="notification_open"),
    path("reconciliations/", operation_views.reconciliation_list, name="reconciliations"),
    path("reconciliations/send/", operation_views.reconciliation_upload, name="reconciliation_upload"),
    path("reconciliations/<int:pk>/", operation_views.reconciliation_detail, name="reconciliation_detail"),
    path("reconciliations/<int:pk>/report.csv", operation_views.reconciliation_download,
         name="reconciliation_download"),
    path("secretariat/failed-tasks/", operation_views.task_failure_list, name="task_failures"),
    path("secretariat/failed-tasks/<int:pk>/", operation_views.task_failure_detail, name="task_failure_detail"),
    path("secretariat/failed-tasks/<int:pk>/retry/", operation_views.task_failure_retry_view,
         name="task_failure_retry"),
    path("secretariat/failed-tasks/<int:pk>/resolve/", operation_views.task_failure_resolve_view,
         name="task_failure_resolve"),
    path("events/refused/", operation_views.refused_events, name="refused_events"),
    path("secretariat/ledger/", operation_views.ledger_checkpoints, name="ledger_checkpoints"),
    path("secretariat/ledger/<int:pk>.json", operation_views.ledger_checkpoint_download,
         name="ledger_checkpoint_download"),
]
