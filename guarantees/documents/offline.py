"""The attestation's offline proof: a signed payload in its QR code, and the signed status list beside it.

The one idea: what a border post checks without a network is what the EU Digital COVID Certificate checks —
a CBOR claims set (a CWT, RFC 8392), signed as a COSE_Sign1 (RFC 9052) with ES256 (ECDSA P-256, SHA-256),
deflated (zlib), written in Base45 (RFC 9285) behind a version prefix: ``CU1:`` here as ``HC1:`` there. The
verifier holds the registry's public keys (``/verify/keys``) and a recent status list (``/verify/status-list``),
both cached; nothing else is needed.

- **QR text**: ``https://<site>/verify/scan/#CU1:<base45>``. A plain phone camera opens the verifier page; the
  payload sits in the URL *fragment*, which the browser never sends to the server (nobody learns who checked
  what), and the installed verifier reads it offline. Base45's alphabet is QR's alphanumeric set, so the payload
  is coded at 5.5 bits a character; its space and ``%`` are percent-escaped (``%20``, ``%25``, themselves
  alphanumeric) so that the URL stays valid and unambiguous.
- **COSE_Sign1**: ``Tag 18 [protected: bstr .cbor {1: -7 (ES256), 4: kid}, unprotected: {}, payload: bstr,
  signature: r‖s (64 bytes)]``, signed over ``["Signature1", protected, h'', payload]``. Written here with
  ``cryptography`` (40 lines; pycose would bring python-ecdsa along).
- **kid**: the first 8 bytes of the SHA-256 of the key's SubjectPublicKeyInfo (DER), as the DCC does.
- **Claims** (``payload_claims``): ``1`` iss (country of issue), ``6`` iat (signing time), ``"cu"`` the guarantee:
  ``grn, v`` (version), ``si`` (its index in the status list), ``pn, nif`` (principal), ``bk`` (bank), ``amt``,
  ``cur``, ``vf, vu`` (valid from, until), ``ct`` (countries covered), ``io`` (issued on).
- **Status list** (``status_list_claims``): the W3C Bitstring Status List model in CBOR: one 4-bit entry per
  version (its ``si``), deflated; an entry's low 3 bits say where the version stands (``STATUS_CODES``), the high
  bit that the guarantee was called (a claim made on it). Positions, not numbers: the list does not publish the
  GRNs, which are random so that they cannot be walked.

Nothing here reads the database; ``guarantees.documents.offline_keys`` holds the keys.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import urllib.parse
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import base45
import cbor2

PREFIX = "CU1:"
COSE_SIGN1_TAG = 18
ALG_ES256 = -7
HEADER_ALG = 1
HEADER_KID = 4
CLAIM_ISS = 1
CLAIM_EXP = 4
CLAIM_IAT = 6
CLAIM_GUARANTEE = "cu"
CLAIM_STATUS = "sl"

# Where a version stands, in 3 bits; bit 3 (8): the guarantee was called (a claim made on it).
STATUS_CODES = {
    "valid": 0, "suspended": 1, "superseded": 2, "expired": 3, "cancelled": 4, "closed": 5, "not_yet_valid": 6,
}
STATUS_NAMES = {code: name for name, code in STATUS_CODES.items()}
CALLED = 8
STATUS_BITS = 4


class OfflineError(ValueError):
    """A payload or list that cannot be read or does not verify; ``code`` says why."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


# --- COSE_Sign1 (RFC 9052 §4.2), ES256 -------------------------------------------------------------

def key_id(public_key) -> bytes:
    """First 8 bytes of the SHA-256 of the SubjectPublicKeyInfo (DER)."""
    from cryptography.hazmat.primitives import serialization

    spki = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).digest()[:8]


def _sig_structure(protected: bytes, payload: bytes) -> bytes:
    return cbor2.dumps(["Signature1", protected, b"", payload])


def cose_sign1(payload: bytes, *, private_key, kid: bytes) -> bytes:
    """``payload`` signed by the P-256 ``private_key``: a tagged COSE_Sign1, the signature r‖s."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    protected = cbor2.dumps({HEADER_ALG: ALG_ES256, HEADER_KID: kid})
    r, s = decode_dss_signature(private_key.sign(_sig_structure(protected, payload), ec.ECDSA(hashes.SHA256())))
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, signature]))


@dataclass(frozen=True)
class Sign1:
    protected: bytes
    payload: bytes
    signature: bytes
    kid: bytes
    alg: int


def cose_parse(data: bytes) -> Sign1:
    """The parts of a COSE_Sign1 (tagged or not), unverified. ``OfflineError("malformed")`` otherwise."""
    try:
        obj = cbor2.loads(data)
        if isinstance(obj, cbor2.CBORTag):
            if obj.tag != COSE_SIGN1_TAG:
                raise OfflineError("malformed")
            obj = obj.value
        protected, unprotected, payload, signature = obj
        header = cbor2.loads(protected) if protected else {}
        # cbor2 gives a tag's contents as immutable values (a frozendict is a Mapping, not a dict).
        if not isinstance(header, Mapping) or not isinstance(unprotected, Mapping):
            raise OfflineError("malformed")
        kid = header.get(HEADER_KID, unprotected.get(HEADER_KID))
        alg = header.get(HEADER_ALG)
        if not isinstance(payload, bytes) or not isinstance(signature, bytes) or not isinstance(kid, bytes):
            raise OfflineError("malformed")
    except OfflineError:
        raise
    except Exception as exc:  # noqa: BLE001 - any CBOR or shape error is one answer
        raise OfflineError("malformed") from exc
    return Sign1(protected=protected, payload=payload, signature=signature, kid=kid, alg=alg)


def cose_verify(sign1: Sign1, public_key) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    if sign1.alg != ALG_ES256 or len(sign1.signature) != 64:
        return False
    r = int.from_bytes(sign1.signature[:32], "big")
    s = int.from_bytes(sign1.signature[32:], "big")
    try:
        public_key.verify(encode_dss_signature(r, s), _sig_structure(sign1.protected, sign1.payload),
                          ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


# --- The payload of a certificate ---------------------------------------------------------------------

def payload_claims(*, content: dict, status_index: int, signed_at: datetime.datetime) -> dict:
    """The CWT claims of an attestation, from its printed content (``certificate_content``)."""
    principal = content["principal"]
    return {
        CLAIM_ISS: content["country_of_issue"]["code"],
        CLAIM_IAT: int(signed_at.timestamp()),
        CLAIM_GUARANTEE: {
            "grn": content["grn"],
            "v": content["version"],
            "si": status_index,
            "pn": principal["name"],
            "nif": principal["tin"],
            "bk": content["bank"]["name"],
            "amt": content["amount"],
            "cur": content["currency"],
            "vf": content["valid_from"],
            "vu": content["valid_until"],
            "ct": [c["code"] for c in content["countries"]],
            "io": content["issued_on"],
        },
    }


def payload_encode(claims: dict, *, private_key, kid: bytes) -> str:
    """``CU1:`` + Base45(zlib(COSE_Sign1(CBOR(claims))))."""
    signed = cose_sign1(cbor2.dumps(claims), private_key=private_key, kid=kid)
    return PREFIX + base45.b45encode(zlib.compress(signed, 9)).decode("ascii")


def scan_url(base_url: str, payload: str) -> str:
    """The QR text: the verifier page, the payload in its fragment (space and % escaped, see the module)."""
    return f"{base_url}#{payload.replace('%', '%25').replace(' ', '%20')}"


def payload_from_text(text: str) -> str:
    """The ``CU1:`` payload from what a scanner read or somebody pasted: the QR's URL or the bare payload."""
    text = text.strip()
    if "#" in text:
        text = urllib.parse.unquote(text.split("#", 1)[1])
    if not text.startswith(PREFIX):
        raise OfflineError("not_a_payload")
    return text


def payload_parse(text: str) -> Sign1:
    payload = payload_from_text(text)
    try:
        compressed = base45.b45decode(payload[len(PREFIX):])
        data = zlib.decompress(compressed)
    except Exception as exc:  # noqa: BLE001 - bad Base45 or deflate stream
        raise OfflineError("malformed") from exc
    return cose_parse(data)


@dataclass(frozen=True)
class PublicKey:
    """A listed key: the current one or a retired one, with the period it signed in (``None``: open)."""

    kid: bytes
    public_key: object
    not_before: datetime.datetime | None = None
    not_after: datetime.datetime | None = None

    def covers(self, moment: datetime.datetime) -> bool:
        return (self.not_before is None or moment >= self.not_before) and (
            self.not_after is None or moment <= self.not_after
        )


@dataclass(frozen=True)
class Verified:
    """A payload that verified: its claims, the guarantee's fields, and the key that signed it."""

    claims: dict
    kid: bytes
    guarantee: dict = field(default_factory=dict)

    @property
    def signed_at(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.claims[CLAIM_IAT], datetime.UTC)


def _verify(sign1: Sign1, keys: list[PublicKey]) -> tuple[dict, PublicKey]:
    key = next((k for k in keys if k.kid == sign1.kid), None)
    if key is None:
        raise OfflineError("unknown_key")
    if not cose_verify(sign1, key.public_key):
        raise OfflineError("bad_signature")
    try:
        claims = cbor2.loads(sign1.payload)
        signed_at = datetime.datetime.fromtimestamp(claims[CLAIM_IAT], datetime.UTC)
    except Exception as exc:  # noqa: BLE001 - a signed payload of another shape
        raise OfflineError("malformed") from exc
    if not key.covers(signed_at):
        raise OfflineError("key_not_valid_then")
    return claims, key


def payload_verify(text: str, *, keys: list[PublicKey]) -> Verified:
    """The payload in ``text`` checked against ``keys``: its kid listed, its signature right, and signed within
    that key's period. ``OfflineError`` with ``not_a_payload``, ``malformed``, ``unknown_key``,
    ``bad_signature`` or ``key_not_valid_then`` otherwise."""
    sign1 = payload_parse(text)
    claims, key = _verify(sign1, keys)
    guarantee = claims.get(CLAIM_GUARANTEE)
    if not isinstance(guarantee, Mapping):
        raise OfflineError("malformed")
    return Verified(claims=claims, kid=key.kid, guarantee=dict(guarantee))


# --- The status list ---------------------------------------------------------------------------------

def bitstring_pack(entries: dict[int, int], *, length: int | None = None) -> tuple[bytes, int]:
    """``{index: 4-bit value}`` as a bitstring (entry 0 in the high nibble of the first byte, as the W3C
    Bitstring Status List orders bits), deflated; and its length in entries."""
    length = max(length or 0, (max(entries) + 1) if entries else 0)
    raw = bytearray((length + 1) // 2)
    for index, value in entries.items():
        if value:
            raw[index // 2] |= (value & 0xF) << (4 if index % 2 == 0 else 0)
    return zlib.compress(bytes(raw), 9), length


def bitstring_entry(raw: bytes, length: int, index: int) -> int:
    """Entry ``index`` of an inflated bitstring (0 beyond its end: nothing known against it)."""
    if index < 0 or index >= length or index // 2 >= len(raw):
        return 0
    byte = raw[index // 2]
    return (byte >> 4) & 0xF if index % 2 == 0 else byte & 0xF


def status_list_claims(*, entries: dict[int, int], length: int, issued_at: datetime.datetime,
                       ttl: datetime.timedelta) -> dict:
    packed, length = bitstring_pack(entries, length=length)
    return {
        CLAIM_IAT: int(issued_at.timestamp()),
        CLAIM_EXP: int((issued_at + ttl).timestamp()),
        CLAIM_STATUS: {"bits": STATUS_BITS, "n": length, "lst": packed},
    }


def status_list_sign(claims: dict, *, private_key, kid: bytes) -> bytes:
    return cose_sign1(cbor2.dumps(claims), private_key=private_key, kid=kid)


@dataclass(frozen=True)
class StatusListRead:
    issued_at: datetime.datetime
    expires_at: datetime.datetime
    length: int
    packed: bytes
    kid: bytes

    @functools.cached_property
    def raw(self) -> bytes:
        return zlib.decompress(self.packed)

    def entry(self, index: int) -> tuple[str, bool]:
        """(where the version at ``index`` stands, whether its guarantee was called) as of ``issued_at``."""
        value = bitstring_entry(self.raw, self.length, index)
        return STATUS_NAMES.get(value & 7, "valid"), bool(value & CALLED)


def status_list_verify(data: bytes, *, keys: list[PublicKey]) -> StatusListRead:
    claims, key = _verify(cose_parse(data), keys)
    try:
        body = claims[CLAIM_STATUS]
        if body["bits"] != STATUS_BITS:
            raise OfflineError("malformed")
        return StatusListRead(
            issued_at=datetime.datetime.fromtimestamp(claims[CLAIM_IAT], datetime.UTC),
            expires_at=datetime.datetime.fromtimestamp(claims[CLAIM_EXP], datetime.UTC),
            length=int(body["n"]), packed=bytes(body["lst"]), kid=key.kid,
        )
    except OfflineError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise OfflineError("malformed") from exc
