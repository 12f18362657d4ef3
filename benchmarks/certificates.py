"""``benchmark certificates``: the time to render one certificate with WeasyPrint and sign it with pyHanko.

1. Setup: one active guarantee (``BENCH-<run>-...``) with its first version, as the registry would hold it.
   The signing key is the configured one (``CERTIFICATE_PKCS12_PATH``) when present, otherwise a temporary
   self-signed key made for the run (nothing is written under ``var/``).
2. Warm-up: ``--warmup`` certificates, not counted (fonts, templates and the key are loaded once per process,
   as in a long-lived worker).
3. Measure: ``--count`` certificates one after the other, each with different content (version number and
   amount change, so nothing is served from a cache), timing render, sign and their sum with
   ``time.perf_counter`` (wall) and ``time.process_time`` (CPU of this process: what the certificate costs,
   whatever else loads the machine).
4. Check: the last PDF is verified (signature intact, trusted, covering the whole file).

Nothing is stored: the service stores once per version, which is one INSERT on top of what is measured here.
"""

from __future__ import annotations

import datetime
import secrets
import statistics
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from benchmarks.common import benchmark_parties, host_load, percentile

HELP = "Render (WeasyPrint) + sign (pyHanko PAdES) one certificate: median and p95 (aim: median <= 250 ms)."
AIM_MEDIAN_MS = 250.0


def add_arguments(parser) -> None:
    parser.add_argument("--count", type=int, default=200, help="Certificates measured (default 200).")
    parser.add_argument("--warmup", type=int, default=3, help="Certificates rendered first, not counted (default 3).")
    parser.add_argument("--language", default="fr", help="Language of the certificates (default fr).")


@contextmanager
def _signing_key(log):
    """The configured key, or a temporary self-signed one when there is none."""
    from django.conf import settings

    from guarantees.documents.devcert import devcert_create

    configured = Path(settings.CERTIFICATE_PKCS12_PATH)
    if configured.exists() and Path(settings.CERTIFICATE_TRUST_ROOTS_PATH).exists():
        with _offline_key(log):
            yield "configured"
        return
    saved = (settings.CERTIFICATE_PKCS12_PATH, settings.CERTIFICATE_PKCS12_PASSPHRASE,
             settings.CERTIFICATE_TRUST_ROOTS_PATH)
    with tempfile.TemporaryDirectory(prefix="bench-cert-") as directory:
        log(f"no signing key at {configured}: using a temporary self-signed one")
        passphrase = secrets.token_hex(8)
        key = devcert_create(pkcs12_path=Path(directory) / "bench.p12", root_path=Path(directory) / "root.pem",
                             passphrase=passphrase)
        settings.CERTIFICATE_PKCS12_PATH = str(key.pkcs12_path)
        settings.CERTIFICATE_PKCS12_PASSPHRASE = passphrase
        settings.CERTIFICATE_TRUST_ROOTS_PATH = str(key.root_path)
        try:
            with _offline_key(log):
                yield "temporary self-signed"
        finally:
            (settings.CERTIFICATE_PKCS12_PATH, settings.CERTIFICATE_PKCS12_PASSPHRASE,
             settings.CERTIFICATE_TRUST_ROOTS_PATH) = saved


@contextmanager
def _offline_key(log):
    """The configured offline key (the QR payload), or a temporary one when there is none."""
    from django.conf import settings

    if Path(settings.OFFLINE_SIGNING_KEY_PATH).exists():
        yield
        return
    saved = settings.OFFLINE_SIGNING_KEY_PATH, settings.OFFLINE_DEV_KEY_PATH
    with tempfile.TemporaryDirectory(prefix="bench-offline-") as directory:
        log(f"no offline key at {settings.OFFLINE_SIGNING_KEY_PATH}: using a temporary one")
        settings.OFFLINE_SIGNING_KEY_PATH = settings.OFFLINE_DEV_KEY_PATH = str(Path(directory) / "offline.pem")
        try:
            yield
        finally:
            settings.OFFLINE_SIGNING_KEY_PATH, settings.OFFLINE_DEV_KEY_PATH = saved


def create_version(run: str):
    """One active guarantee of the benchmark's forwarder and bank, with its first version."""
    from django.utils import timezone

    from guarantees.models import Guarantee, GuaranteeStatus, GuaranteeVersion

    country, user, forwarder, bank = benchmark_parties()
    today = timezone.now().date()
    amount = 71_750_000
    guarantee = Guarantee.objects.create(
        principal=forwarder, bank=bank, country=country, grn=f"BENCH-{run}-CERT", status=GuaranteeStatus.ACTIVE,
        requested_amount=amount, amount=amount, valid_from=today, valid_until=today + datetime.timedelta(days=365),
        requested_by=user, accepted_by=user, activated_at=timezone.now(), version=1,
        purpose=f"benchmark run {run}",
    )
    return GuaranteeVersion.objects.create(
        guarantee=guarantee, number=1, amount=amount, valid_from=guarantee.valid_from,
        valid_until=guarantee.valid_until,
    )


def _summary(values: list[float]) -> dict:
    ordered = sorted(values)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(percentile(ordered, 95) * 1000, 1),
        "min_ms": round(ordered[0] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def run(options: dict, *, log=print) -> dict:
    from guarantees.documents.renderer import (
        CertificateRenderer,
        certificate_qr_text,
        certificate_verify_url,
        content_fingerprint,
    )
    from guarantees.documents.signing import pdf_sign, pdf_verify, signing_key
    from guarantees.services.certificates import certificate_content

    count, warmup, language = options["count"], max(0, options["warmup"]), options["language"]
    if count < 1:
        raise ValueError("--count must be positive.")
    run_id = secrets.token_hex(4)
    log(f"run {run_id}: creating a guarantee and its version...")
    base = certificate_content(version=create_version(run_id))

    with _signing_key(log) as key_kind:
        signer = signing_key().common_name

        def one(i: int):
            content = {**base, "version": i + 1, "amount": base["amount"] + 1000 * i}
            fingerprint = content_fingerprint(content)
            renderer = CertificateRenderer(
                content=content, fingerprint=fingerprint, signer=signer,
                verify_url=certificate_verify_url(grn=content["grn"], number=content["version"]),
            )
            w0, c0 = time.perf_counter(), time.process_time()
            renderer.qr_text = certificate_qr_text(content=content, status_index=i + 1)  # the signed payload
            _name, _mime, pdf = renderer.render(language)
            w1, c1 = time.perf_counter(), time.process_time()
            signed = pdf_sign(pdf, reason=f"benchmark {run_id}")
            w2, c2 = time.perf_counter(), time.process_time()
            return signed, (w1 - w0, w2 - w1, w2 - w0), (c1 - c0, c2 - c1, c2 - c0)

        log(f"run {run_id}: warm-up ({warmup})...")
        for i in range(warmup):
            one(i)
        load_before = host_load()
        log(f"run {run_id}: measuring {count} certificates...")
        walls, cpus, sizes = [], [], []
        signed = b""
        for i in range(count):
            signed, wall, cpu = one(warmup + i)
            walls.append(wall)
            cpus.append(cpu)
            sizes.append(len(signed))
        load_after = host_load()
        check = pdf_verify(signed)

    total = _summary([w[2] for w in walls])
    result = {
        "benchmark": "certificates",
        "run": run_id,
        "count": count,
        "warmup": warmup,
        "language": language,
        "key": key_kind,
        "render_and_sign": total,
        "render": _summary([w[0] for w in walls]),
        "sign": _summary([w[1] for w in walls]),
        "cpu": {
            "render_and_sign": _summary([c[2] for c in cpus]),
            "render": _summary([c[0] for c in cpus]),
            "sign": _summary([c[1] for c in cpus]),
        },
        "pdf_bytes": {"median": int(statistics.median(sizes)), "max": max(sizes)},
        "last_pdf_verifies": check.ok,
        "aim": {"median_ms": AIM_MEDIAN_MS, "met": total["median_ms"] <= AIM_MEDIAN_MS},
        "host": {"before": load_before, "after": load_after},
    }
    return result
