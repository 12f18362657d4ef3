"""Business settings of the registry: periods and thresholds the secretariat may tune per deployment."""

from config.env import env_int, env_list, env_str

# Where the public verification page lives, for the QR code on certificates.
REGISTRY_PUBLIC_URL = env_str("REGISTRY_PUBLIC_URL", "http://127.0.0.1:8000")

# Default low-balance alert threshold, in percent of the reference amount.
REGISTRY_LOW_BALANCE_PCT = env_int("REGISTRY_LOW_BALANCE_PCT", 10)

# Access codes: wrong tries one caller (an API key, a person) may make on one GRN in the window before that
# caller is slowed down on that GRN (nobody else is); wrong tries on one guarantee from all callers together in
# the window that alert its principal and the secretariat (once per window).
REGISTRY_ACCESS_CODE_MAX_FAILURES = env_int("REGISTRY_ACCESS_CODE_MAX_FAILURES", 5)
REGISTRY_ACCESS_CODE_WINDOW_SECONDS = env_int("REGISTRY_ACCESS_CODE_WINDOW_SECONDS", 900)
REGISTRY_ACCESS_CODE_ALERT_FAILURES = env_int("REGISTRY_ACCESS_CODE_ALERT_FAILURES", 10)

# Claims (TIR-like): notice to the guarantor within N days of the deadline; no claim before the waiting
# period after the notice; no claim after the final limit; the bank examines within N working days.
REGISTRY_NOTICE_PERIOD_DAYS = env_int("REGISTRY_NOTICE_PERIOD_DAYS", 365)
REGISTRY_CLAIM_WAITING_DAYS = env_int("REGISTRY_CLAIM_WAITING_DAYS", 30)
REGISTRY_CLAIM_FINAL_LIMIT_DAYS = env_int("REGISTRY_CLAIM_FINAL_LIMIT_DAYS", 3 * 365)
REGISTRY_EXAMINATION_WORKING_DAYS = env_int("REGISTRY_EXAMINATION_WORKING_DAYS", 5)

# Countries whose customs accept bank-confirmed guarantees automatically (the secretariat's decision).
REGISTRY_AUTO_ACCEPT_COUNTRIES = env_list("REGISTRY_AUTO_ACCEPT_COUNTRIES")

# Time limit (days) for a transit whose corridor is neither named nor found from its offices.
REGISTRY_DEFAULT_TIME_LIMIT_DAYS = env_int("REGISTRY_DEFAULT_TIME_LIMIT_DAYS", 10)

# Enquiries on undischarged transits: the principal answers within N working days (opening customs' calendar);
# proof files are PDF, JPEG or PNG, at most N files of at most N bytes each, stored under MEDIA_ROOT.
REGISTRY_ENQUIRY_ANSWER_WORKING_DAYS = env_int("REGISTRY_ENQUIRY_ANSWER_WORKING_DAYS", 20)
REGISTRY_ENQUIRY_FILE_MAX_BYTES = env_int("REGISTRY_ENQUIRY_FILE_MAX_BYTES", 5 * 1024 * 1024)
REGISTRY_ENQUIRY_MAX_FILES = env_int("REGISTRY_ENQUIRY_MAX_FILES", 10)

# Days of the week that are not working days (Monday = 0), in every country; public holidays are data
# (guarantees.PublicHoliday, per country).
REGISTRY_WEEKEND_DAYS = tuple(int(d) for d in env_list("REGISTRY_WEEKEND_DAYS") or ("5", "6"))

# The sweep that flags claims left unanswered past their examination deadline (guarantees.tasks).
from config.settings.celery import CELERY_BEAT_SCHEDULE  # noqa: E402

CELERY_BEAT_SCHEDULE["flag-overdue-claims"] = {
    "task": "guarantees.tasks.flag_overdue_claims",
    "schedule": 60 * 60,
}

# How many reverse proxies in front of the application append to X-Forwarded-For (deploy/: nginx, so 1). The
# client's address (accounts.network.client_ip) is the rightmost one no trusted proxy wrote; sign-in
# throttling, the API's limits and the verify page all read it there. 0: the header is ignored.
REGISTRY_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# --- The ledger ---------------------------------------------------------------------------------------------
# Entries are chained with HMAC-SHA256 under a key kept outside the database (guarantees/services/ledger.py).
# LEDGER_MAC_KEY: at least 32 characters, required in production; LEDGER_MAC_KEY_ID names it in each entry, so
# that after a rotation the entries sealed with an old key still verify: list the old ones in
# LEDGER_MAC_OLD_KEYS as "id:key,id:key". Without a key (make run, tests) one is derived from SECRET_KEY.
LEDGER_MAC_KEY = env_str("LEDGER_MAC_KEY")
LEDGER_MAC_KEY_ID = env_str("LEDGER_MAC_KEY_ID", "k1" if LEDGER_MAC_KEY else "dev")
LEDGER_MAC_OLD_KEYS = env_list("LEDGER_MAC_OLD_KEYS")
# The chain heads of every guarantee are sealed into a checkpoint signed with the registry's signing key this
# often (Celery beat), so that a consistent rewrite by someone holding the MAC key is still caught.
LEDGER_CHECKPOINT_EVERY_SECONDS = env_int("LEDGER_CHECKPOINT_EVERY_SECONDS", 3600)
CELERY_BEAT_SCHEDULE["ledger-checkpoint"] = {
    "task": "guarantees.tasks.ledger_checkpoint",
    "schedule": LEDGER_CHECKPOINT_EVERY_SECONDS,
    "options": {"expires": max(LEDGER_CHECKPOINT_EVERY_SECONDS, 60)},
}

# Transit events: how far a customs system's clock may be ahead of ours, or an event dated before its declaration,
# before the event is refused (guarantees/services/events.py).
REGISTRY_EVENT_CLOCK_SKEW_SECONDS = env_int("REGISTRY_EVENT_CLOCK_SKEW_SECONDS", 300)

# --- Bounds of every amount and date (guarantees/limits.py) ----------------------------------------------------
# The largest reference amount a guarantee may have, in whole francs CFA (1 000 milliards by default: well above
# any bank's ceiling, far below what the database's 64-bit columns hold). Every amount received — a request, an
# amendment, a preparation, a declaration, a partial discharge, a payment, a reconciliation line — is refused
# above it, with the limit in the message.
REGISTRY_MAX_AMOUNT = env_int("REGISTRY_MAX_AMOUNT", 1_000_000_000_000)
# The longest validity a guarantee may be requested or amended to, in days (3 years by default).
REGISTRY_MAX_VALIDITY_DAYS = env_int("REGISTRY_MAX_VALIDITY_DAYS", 3 * 366)
# How far in the future a declaration may be dated (the sending system's clock may run ahead of ours).
REGISTRY_DECLARATION_CLOCK_SKEW_SECONDS = env_int("REGISTRY_DECLARATION_CLOCK_SKEW_SECONDS", 300)

# --- Exports of the lists and monthly statements -------------------------------------------------------------
# A list export of at most this many rows streams at once (CSV row by row, XLSX written then sent); a larger one
# runs in the background as a job with a progress bar, its file downloadable by its owner only for
# REGISTRY_EXPORT_KEEP_HOURS (a sweep removes it then). The job records its progress every N rows.
REGISTRY_EXPORT_STREAM_MAX_ROWS = env_int("REGISTRY_EXPORT_STREAM_MAX_ROWS", 5000)
REGISTRY_EXPORT_PROGRESS_EVERY = env_int("REGISTRY_EXPORT_PROGRESS_EVERY", 1000)
REGISTRY_EXPORT_KEEP_HOURS = env_int("REGISTRY_EXPORT_KEEP_HOURS", 24)
# How often a job's page asks for its progress.
REGISTRY_EXPORT_POLL_SECONDS = env_int("REGISTRY_EXPORT_POLL_SECONDS", 2)

CELERY_BEAT_SCHEDULE["sweep-export-files"] = {
    "task": "guarantees.tasks.sweep_export_files",
    "schedule": 60 * 60,
    "options": {"expires": 60 * 60},
}
# Statements of the month before, for every guarantee that had a balance or a movement in it: on the 1st, early
# in the morning UTC (every registry zone is UTC or UTC+1).
from celery.schedules import crontab as _crontab  # noqa: E402

CELERY_BEAT_SCHEDULE["monthly-statements"] = {
    "task": "guarantees.tasks.statements_previous_month",
    "schedule": _crontab(day_of_month=1, hour=1, minute=30),
}

# --- Reports (reporting/) ---------------------------------------------------------------------------
# A bank whose exposure reaches this share of its ceiling is listed "near its ceiling" on the secretariat's report.
REPORTING_NEAR_CEILING_PCT = env_int("REPORTING_NEAR_CEILING_PCT", 80)
# The forwarder and its bank are told once when a guarantee's headroom forecast (guarantees.forecast) falls within
# this many days; told again only after the forecast has moved beyond it.
REGISTRY_HEADROOM_ALERT_DAYS = env_int("REGISTRY_HEADROOM_ALERT_DAYS", 14)
