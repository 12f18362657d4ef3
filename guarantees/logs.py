"""Logs as JSON lines, each with the request id of the request (or of the request that queued the task) it
belongs to, and never a secret or a person's data.

A small stdlib formatter rather than python-json-logger or structlog: what a line holds is fixed here (time, level,
logger, message, request id, process, the exception's type and trace), every record of every library goes through
the same ``logging`` handlers Django and Celery already configure, and the redaction below must see the final
text whatever library wrote it — a dependency would add nothing to that but another API.

Request ids: ``guarantees.web.probes.RequestIdMiddleware`` sets one per request (X-Request-ID from nginx when the
application sits behind ``REGISTRY_TRUSTED_PROXY_COUNT`` proxies, else a fresh one); ``guarantees.queue`` puts
it in the headers of every task a request queues, and the worker sets it again around the task
(``guarantees.operations.receivers``), so a release's lines carry the id of the discharge that caused it.

Redaction (``RedactingFilter``): log messages are written by people who may forget; the filter is the net. It
masks, in the rendered message and in the exception text, e-mail addresses, ``Api-Key``/``Bearer``/``Basic``
credentials, API keys of this registry (``cu_...``), ``password=``/``token=``/``secret=``/``code=``/``otp=``-like
pairs (query strings, forms, dict reprs) and six-digit numbers standing alone (TOTP codes). Names of people are
never logged by the registry's own code (it logs ids); a name in a library's message cannot be recognised and is
why the registry never passes a user object to a log call.
"""

from __future__ import annotations

import contextvars
import datetime
import json
import logging
import re
import uuid

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def request_id() -> str | None:
    return _request_id.get()


def request_id_set(value: str | None) -> contextvars.Token:
    return _request_id.set(value)


def request_id_reset(token: contextvars.Token) -> None:
    _request_id.reset(token)


def request_id_clear(**_) -> None:
    """Receiver of ``request_finished``: the next log line outside a request has no id."""
    _request_id.set(None)


def request_id_new() -> str:
    return uuid.uuid4().hex


def request_id_accept(value: str | None) -> str | None:
    """A request id from outside (nginx's $request_id, a task's header) if it looks like one, else ``None``."""
    if value and REQUEST_ID_PATTERN.match(value):
        return value
    return None


_factory_installed = False


def record_factory_install() -> None:
    """Every log record carries the request id current where it is created (``record.request_id``), whatever
    handler later writes it — the console's, a test's, a thread's (called once, from the app's ``ready``)."""
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        record.request_id = _request_id.get()
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True


# --- Redaction -------------------------------------------------------------------------------------------------

_SECRET_WORDS = (r"password|passwd|pass|secret|token|api[_-]?key|access[_-]?code|code|otp|totp|auth|"
                 r"authorization|cookie|sessionid|csrftoken|csrfmiddlewaretoken|key|email|e-mail|name|"
                 r"first_name|last_name|username|login|phone")
_PATTERNS = [
    # Authorization: Api-Key xxx / Bearer xxx / Basic xxx
    (re.compile(r"(?i)\b(api-key|bearer|basic|token)\s+[A-Za-z0-9._~+/=:-]{6,}"), r"\1 [redacted]"),
    # key=value, key: value, 'key': 'value', "key": "value" (query strings, forms, reprs, JSON)
    (re.compile(rf"(?i)(['\"]?(?<![A-Za-z0-9])(?:{_SECRET_WORDS})\b['\"]?\s*[=:(]\s*)(['\"]?)[^'\"&\s,;)}}\]]+\2"),
     r"\1\2[redacted]\2"),
    # e-mail addresses anywhere
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "[email]"),
    # this registry's API keys (prefix cu_) and long opaque tokens
    (re.compile(r"\bcu_[A-Za-z0-9_-]{8,}"), "[redacted]"),
    # a six-digit number standing alone: a TOTP code or an access code
    (re.compile(r"(?<![\w.:/-])\d{6}(?![\w.:/-])"), "[redacted]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Renders the message once (``record.getMessage()``), redacted, and drops the arguments, so that no handler
    formats the raw arguments again."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is still logged
            message = str(record.msg)
        record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        record.request_id = getattr(record, "request_id", None) or request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (UTC, ISO 8601, ms), ``level``, ``logger``, ``message``, ``request_id``,
    ``process``, and ``exc_type``/``exc`` when an exception is attached."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id(),
            "process": record.process,
        }
        task = getattr(record, "task_name", None)
        if task:
            line["task"] = task
        if record.exc_info or record.exc_text:
            if record.exc_info and record.exc_info[0] is not None:
                line["exc_type"] = record.exc_info[0].__name__
            line["exc"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)
