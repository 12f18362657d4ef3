"""The registry's keys for offline verification: one P-256 key that signs now, and the keys it replaced.

Dedicated to this (the PAdES key of the PDFs is another key, from a certification authority). Settings:
``OFFLINE_SIGNING_KEY_PATH`` (PEM, PKCS#8, passphrase in ``OFFLINE_SIGNING_KEY_PASSPHRASE`` if encrypted) and
``OFFLINE_SIGNING_KEY_NOT_BEFORE`` (ISO date-time it signs from), and ``OFFLINE_RETIRED_KEYS_PATH``: a JSON file
``[{"public_key": "<PEM>", "not_before": "...", "not_after": "..."}]`` of the keys signed with before. Rotation:
add the current key's public half to that file with ``not_after`` set to now, point the path to the new key.
A retired key stays listed, so what it signed keeps verifying; it verifies nothing signed after its
``not_after``.

Outside production a missing development key is made on first use under ``var/certificates/`` (written once,
atomically: concurrent processes end up with the same key); production requires the path (settings).
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from guarantees.documents.offline import PublicKey, key_id


@dataclass(frozen=True)
class SigningKey:
    kid: bytes
    private_key: object
    listed: PublicKey


def _parse_moment(value) -> datetime.datetime | None:
    if not value:
        return None
    moment = datetime.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def devkey_create(path: Path | str) -> None:
    """A P-256 private key at ``path`` unless one is there (never replaced: what it signed must keep verifying)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    path = Path(path)
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".offline-key-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        os.chmod(temporary, 0o600)
        try:
            os.link(temporary, path)  # fails if another process wrote it first: theirs is kept
        except FileExistsError:
            pass
    finally:
        os.unlink(temporary)


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int, passphrase: str | None, not_before: str | None) -> SigningKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        private_key = serialization.load_pem_private_key(
            Path(path).read_bytes(), passphrase.encode() if passphrase else None
        )
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"Cannot read the offline signing key {path}: {exc}") from exc
    if not isinstance(private_key, ec.EllipticCurvePrivateKey) or private_key.curve.name != "secp256r1":
        raise ImproperlyConfigured(f"The offline signing key {path} must be an ECDSA P-256 key.")
    kid = key_id(private_key.public_key())
    return SigningKey(kid=kid, private_key=private_key,
                      listed=PublicKey(kid=kid, public_key=private_key.public_key(),
                                       not_before=_parse_moment(not_before)))


def offline_signing_key() -> SigningKey:
    """The key that signs payloads and status lists now (loaded once, again when the file changes)."""
    path = Path(settings.OFFLINE_SIGNING_KEY_PATH)
    if not path.exists() and str(path) == settings.OFFLINE_DEV_KEY_PATH:
        devkey_create(path)
    try:
        mtime_ns = path.stat().st_mtime_ns
    except FileNotFoundError:
        raise ImproperlyConfigured(f"The offline signing key {path} does not exist (OFFLINE_SIGNING_KEY_PATH).")
    return _load(str(path), mtime_ns, settings.OFFLINE_SIGNING_KEY_PASSPHRASE,
                 settings.OFFLINE_SIGNING_KEY_NOT_BEFORE)


@functools.lru_cache(maxsize=8)
def _retired(path: str, mtime_ns: int) -> tuple[PublicKey, ...]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        rows = json.loads(Path(path).read_text())
        keys = []
        for row in rows:
            public_key = serialization.load_pem_public_key(row["public_key"].encode())
            if not isinstance(public_key, ec.EllipticCurvePublicKey) or public_key.curve.name != "secp256r1":
                raise ValueError("not a P-256 key")
            not_after = _parse_moment(row.get("not_after"))
            if not_after is None:
                raise ValueError("a retired key needs its not_after")
            keys.append(PublicKey(kid=key_id(public_key), public_key=public_key,
                                  not_before=_parse_moment(row.get("not_before")), not_after=not_after))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ImproperlyConfigured(f"Cannot read the retired offline keys {path}: {exc}") from exc
    return tuple(keys)


def offline_public_keys() -> list[PublicKey]:
    """Every listed key: the current one first, then the retired ones."""
    keys = [offline_signing_key().listed]
    path = settings.OFFLINE_RETIRED_KEYS_PATH
    if path:
        try:
            mtime_ns = Path(path).stat().st_mtime_ns
        except FileNotFoundError:
            raise ImproperlyConfigured(f"OFFLINE_RETIRED_KEYS_PATH {path} does not exist.")
        keys.extend(k for k in _retired(str(path), mtime_ns) if k.kid != keys[0].kid)
    return keys


def public_key_jwk(key: PublicKey) -> dict:
    """A listed key as the JSON of ``/verify/keys``: a JWK (RFC 7517) with its kid and validity, and the DER
    SubjectPublicKeyInfo (base64) for verifiers that read X.509 structures."""
    import base64

    from cryptography.hazmat.primitives import serialization

    numbers = key.public_key.public_numbers()

    def b64url(value: bytes) -> str:
        return base64.urlsafe_b64encode(value).rstrip(b"=").decode("ascii")

    spki = key.public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return {
        "kid": base64.b64encode(key.kid).decode("ascii"),
        "alg": "ES256",
        "kty": "EC",
        "crv": "P-256",
        "x": b64url(numbers.x.to_bytes(32, "big")),
        "y": b64url(numbers.y.to_bytes(32, "big")),
        "spki": base64.b64encode(spki).decode("ascii"),
        "not_before": key.not_before.isoformat() if key.not_before else None,
        "not_after": key.not_after.isoformat() if key.not_after else None,
    }
