"""The registry's PAdES signature on certificates, and its verification.

Signing: the key and certificate come from a PKCS#12 file (``CERTIFICATE_PKCS12_PATH``, passphrase in
``CERTIFICATE_PKCS12_PASSPHRASE``), loaded once per process. The signature is a PAdES baseline signature
(``ETSI.CAdES.detached``, SHA-256) that *certifies* the document with "no changes allowed", so any PDF reader
flags a later edit. When ``CERTIFICATE_TSA_URL`` is set, an RFC 3161 timestamp is added (PAdES B-T).

Verification: a PDF is a certificate of the registry when its signature is cryptographically valid, its
signed bytes are intact, it covers the whole file (nothing was appended after signing) and its certificate
chains up to one of the trust roots of ``CERTIFICATE_TRUST_ROOTS_PATH`` (a PEM bundle: the registry's root,
and the timestamp authority's root when one is used). Nothing is fetched from the network.
"""

from __future__ import annotations

import datetime
import functools
import logging
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

FIELD_NAME = "RegistrySignature"
# Room for the CMS container (DER bytes; written in hex, so twice this in the file). A 2-certificate chain and
# an RSA signature take ~3 kB; an RFC 3161 token with its own chain up to ~8 kB more.
BYTES_RESERVED = 12_000
BYTES_RESERVED_WITH_TSA = 32_000
KEYWORDS_PREFIX = "caution-unique"


# --- Signing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedKey:
    signer: object  # pyhanko.sign.signers.SimpleSigner
    subject: str
    common_name: str
    private_key: object = None  # cryptography's private key (RSA or EC)
    certificate: object = None  # cryptography's x509.Certificate of the signing key


def _pkcs12_path() -> Path:
    return Path(settings.CERTIFICATE_PKCS12_PATH)


def _registry_signer_class():
    from cryptography.hazmat.primitives.asymmetric.ec import ECDSA
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from pyhanko.sign import signers
    from pyhanko_certvalidator.util import get_pyca_cryptography_hash

    class RegistrySigner(signers.SimpleSigner):
        """pyHanko's ``SimpleSigner`` keeping the parsed private key: the stock one parses it again for every
        signature, which costs ~60 ms with RSA (the key consistency check), a quarter of a certificate's time."""

        def __init__(self, *, private_key, **kwargs):
            super().__init__(**kwargs)
            self._private_key = private_key

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
            hash_algorithm = get_pyca_cryptography_hash(digest_algorithm)
            if mechanism == "rsassa_pkcs1v15":
                return self._private_key.sign(data, PKCS1v15(), hash_algorithm)
            if mechanism == "ecdsa":
                return self._private_key.sign(data, ECDSA(hash_algorithm))
            return super().sign_raw(data, digest_algorithm)  # PSS, EdDSA...: the stock (slower) path

    return RegistrySigner


@functools.lru_cache(maxsize=4)
def _load_key(path: str, mtime_ns: int, passphrase: str | None) -> LoadedKey:
    from cryptography.hazmat.primitives.serialization import pkcs12
    from pyhanko.keys.internal import (
        translate_pyca_cryptography_cert_to_asn1,
        translate_pyca_cryptography_key_to_asn1,
    )
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    try:
        private_key, cert, chain = pkcs12.load_key_and_certificates(
            Path(path).read_bytes(), passphrase.encode() if passphrase else None
        )
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"Cannot open the certificate signing key {path}: wrong CERTIFICATE_PKCS12_PASSPHRASE or not a "
            "PKCS#12 file."
        ) from exc
    if private_key is None or cert is None:
        raise ImproperlyConfigured(f"The PKCS#12 file {path} holds no private key and certificate.")
    store = SimpleCertificateStore()
    store.register_multiple([translate_pyca_cryptography_cert_to_asn1(c) for c in chain])
    signer = _registry_signer_class()(
        private_key=private_key,
        signing_cert=translate_pyca_cryptography_cert_to_asn1(cert),
        signing_key=translate_pyca_cryptography_key_to_asn1(private_key),
        cert_registry=store,
    )
    subject = signer.signing_cert.subject
    return LoadedKey(signer=signer, subject=subject.human_friendly,
                     common_name=subject.native.get("common_name") or subject.human_friendly,
                     private_key=private_key, certificate=cert)


def signing_key() -> LoadedKey:
    """The registry's signing key, loaded once (and again when the file changes)."""
    path = _pkcs12_path()
    try:
        mtime_ns = path.stat().st_mtime_ns
    except FileNotFoundError:
        raise ImproperlyConfigured(
            f"The certificate signing key {path} does not exist. In development run "
            "'python manage.py certificate_devkey'; in production set CERTIFICATE_PKCS12_PATH and "
            "CERTIFICATE_PKCS12_PASSPHRASE."
        ) from None
    return _load_key(str(path), mtime_ns, settings.CERTIFICATE_PKCS12_PASSPHRASE)


def _timestamper():
    url = getattr(settings, "CERTIFICATE_TSA_URL", None)
    if not url:
        return None
    from pyhanko.sign.timestamps import HTTPTimeStamper

    return HTTPTimeStamper(url, timeout=getattr(settings, "CERTIFICATE_TSA_TIMEOUT", 10))


def _outside_event_loop(function, *args, **kwargs):
    """Call ``function`` where pyHanko's synchronous API works: it runs ``asyncio.run``, which refuses to run
    in a thread that already has an event loop (an ASGI server, Playwright's sync API in tests)."""
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args, **kwargs)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args, **kwargs).result()


def pdf_sign(pdf: bytes, *, reason: str, location: str = "", contact: str = "") -> bytes:
    """``pdf`` with the registry's certifying PAdES signature appended (an incremental update)."""
    return _outside_event_loop(_pdf_sign, pdf, reason=reason, location=location, contact=contact)


def _pdf_sign(pdf: bytes, *, reason: str, location: str, contact: str) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    key = signing_key()
    timestamper = _timestamper()
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        reason=reason,
        location=location or None,
        contact_info=contact or None,
        name=key.subject,
    )
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    out = signers.sign_pdf(
        writer, meta, signer=key.signer, timestamper=timestamper,
        bytes_reserved=BYTES_RESERVED_WITH_TSA if timestamper else BYTES_RESERVED,
    )
    return out.getvalue()


# --- Detached signatures (ledger checkpoints) -----------------------------------------------------


@dataclass(frozen=True)
class DetachedSignature:
    algorithm: str  # "rsa-pkcs1v15-sha256" or "ecdsa-sha256"
    signature: bytes
    certificate_pem: str


def detached_sign(data: bytes) -> DetachedSignature:
    """The registry key's signature over ``data`` (SHA-256), with the certificate that verifies it."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15

    key = signing_key()
    private = key.private_key
    if isinstance(private, rsa.RSAPrivateKey):
        algorithm, signature = "rsa-pkcs1v15-sha256", private.sign(data, PKCS1v15(), hashes.SHA256())
    elif isinstance(private, ec.EllipticCurvePrivateKey):
        algorithm, signature = "ecdsa-sha256", private.sign(data, ec.ECDSA(hashes.SHA256()))
    else:
        raise ImproperlyConfigured("The registry's signing key must be RSA or EC to sign ledger checkpoints.")
    pem = key.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
    return DetachedSignature(algorithm, signature, pem)


def detached_verify(*, data: bytes, algorithm: str, signature: bytes, certificate_pem: str) -> str:
    """Why ``signature`` is not the registry's over ``data`` ("" when it is): the signature must check out with
    the certificate, and the certificate must be one of the trust roots or be issued by one of them (so that a
    database writer cannot sign a checkpoint with a key of their own and store their certificate beside it)."""
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15

    try:
        certificate = x509.load_pem_x509_certificate(certificate_pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return "the signer's certificate cannot be read"
    trusted = False
    for root in trust_roots():
        root_cert = x509.load_der_x509_certificate(asn1_x509.Certificate.dump(root))
        if root_cert.public_bytes(serialization.Encoding.DER) == certificate.public_bytes(serialization.Encoding.DER):
            trusted = True
            break
        try:
            certificate.verify_directly_issued_by(root_cert)
        except (ValueError, TypeError, InvalidSignature):
            continue
        trusted = True
        break
    if not trusted:
        return "the signer's certificate is not issued by a trusted root"
    public = certificate.public_key()
    try:
        if algorithm == "rsa-pkcs1v15-sha256":
            public.verify(signature, data, PKCS1v15(), hashes.SHA256())
        elif algorithm == "ecdsa-sha256":
            public.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            return f"unknown signature algorithm {algorithm!r}"
    except (InvalidSignature, TypeError, ValueError, AttributeError):
        return "the signature does not match the document"
    return ""


# --- Verification --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _load_roots(path: str, mtime_ns: int) -> tuple:
    from asn1crypto import pem, x509

    data = Path(path).read_bytes()
    if pem.detect(data):
        return tuple(x509.Certificate.load(der) for _type, _headers, der in pem.unarmor(data, multiple=True))
    return (x509.Certificate.load(data),)


def trust_roots() -> tuple:
    path = Path(settings.CERTIFICATE_TRUST_ROOTS_PATH)
    try:
        return _load_roots(str(path), path.stat().st_mtime_ns)
    except FileNotFoundError:
        raise ImproperlyConfigured(
            f"The certificate trust roots {path} do not exist (CERTIFICATE_TRUST_ROOTS_PATH)."
        ) from None


@dataclass(frozen=True)
class SignatureCheck:
    """What a PDF's signature says. ``ok``: a certificate of the registry, unchanged since it was signed."""

    readable: bool
    signatures: int = 0
    intact: bool = False  # the signed bytes are those that were signed
    valid: bool = False  # the signature value checks out with the signer's key
    trusted: bool = False  # the signer's certificate chains up to a configured root
    whole_file: bool = False  # nothing was added to the file after signing
    unchanged_since_certified: bool = False  # no change against the "no changes" certification
    signer: str = ""
    signed_at: datetime.datetime | None = None
    timestamped: bool = False
    metadata: dict = field(default_factory=dict)
    error: str = ""

    @property
    def signed(self) -> bool:
        return self.signatures > 0

    @property
    def ok(self) -> bool:
        return (
            self.readable and self.signatures == 1 and self.intact and self.valid and self.trusted
            and self.whole_file and self.unchanged_since_certified
        )


def keywords_format(**values) -> str:
    """The document's keywords carrying its identity: ``caution-unique; grn=...; version=2; ...``."""
    return "; ".join([KEYWORDS_PREFIX, *(f"{k}={v}" for k, v in values.items())])


def keywords_parse(text: str) -> dict:
    parts = [p.strip() for p in (text or "").split(";")]
    if not parts or parts[0] != KEYWORDS_PREFIX:
        return {}
    return dict(p.split("=", 1) for p in parts[1:] if "=" in p)


def _metadata(reader) -> dict:
    try:
        info = reader.trailer["/Info"]
        return keywords_parse(str(info.get("/Keywords", "")))
    except Exception:  # noqa: BLE001 - metadata of an untrusted file is a hint, never a reason to fail
        return {}


def pdf_verify(data: bytes) -> SignatureCheck:
    """Check ``data`` (an untrusted upload) without raising: every failure is a field of the answer."""
    return _outside_event_loop(_pdf_verify, data)


def _pdf_verify(data: bytes) -> SignatureCheck:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    roots = trust_roots()
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        signatures = list(reader.embedded_signatures)
    except Exception as exc:  # noqa: BLE001 - any parse error means "not a readable PDF"
        return SignatureCheck(readable=False, error=type(exc).__name__)
    metadata = _metadata(reader)
    if not signatures:
        return SignatureCheck(readable=True, metadata=metadata)
    embedded = signatures[0]
    context = ValidationContext(trust_roots=list(roots), allow_fetching=False, revocation_mode="soft-fail")
    try:
        status = validate_pdf_signature(embedded, signer_validation_context=context)
    except Exception as exc:  # noqa: BLE001 - a malformed signature is an invalid one
        logger.info("certificate upload: signature could not be validated: %s", exc)
        return SignatureCheck(readable=True, signatures=len(signatures), metadata=metadata,
                              error=type(exc).__name__)
    signer = ""
    try:
        signer = status.signing_cert.subject.human_friendly
    except Exception:  # noqa: BLE001
        pass
    return SignatureCheck(
        readable=True,
        signatures=len(signatures),
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        unchanged_since_certified=bool(status.docmdp_ok) or status.modification_level is None,
        signer=signer,
        signed_at=getattr(status, "signer_reported_dt", None),
        timestamped=status.timestamp_validity is not None,
        metadata=metadata,
    )
