"""A self-signed key for development and tests: a root certificate and a signing certificate it issues.

The PKCS#12 file holds the signing key, the signing certificate and the root (as its chain); the root is also
written alone, as PEM, for the verification side to trust. The root's private key is thrown away once it has
signed: a new development key is a new root, nothing else ever needs it. Never use this in production: there
the registry's key comes from a real certification authority, through ``CERTIFICATE_PKCS12_PATH``.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

# id-kp-documentSigning (RFC 9336).
DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")


@dataclass(frozen=True)
class DevKey:
    pkcs12_path: Path
    root_path: Path
    subject: str


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "BF"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Registre de la caution unique (DÉVELOPPEMENT)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def devcert_create(*, pkcs12_path: Path | str, root_path: Path | str, passphrase: str,
                   days: int = 3 * 365, key_size: int = 2048) -> DevKey:
    """Write a fresh root (PEM) and signing key + certificate (PKCS#12, encrypted with ``passphrase``)."""
    pkcs12_path, root_path = Path(pkcs12_path), Path(root_path)
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    until = now + datetime.timedelta(days=days)

    root_key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    root_name = _name("Caution unique — racine de développement")
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )

    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    signer_name = _name("Registre de la caution unique — signature des attestations")
    signer = (
        x509.CertificateBuilder()
        .subject_name(signer_name)
        .issuer_name(root_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=True, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                       critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False
        )
        .sign(root_key, hashes.SHA256())
    )

    bundle = pkcs12.serialize_key_and_certificates(
        name=b"registry-signing",
        key=key,
        cert=signer,
        cas=[root],
        encryption_algorithm=serialization.BestAvailableEncryption(passphrase.encode()),
    )
    _write_private(pkcs12_path, bundle)
    root_path.parent.mkdir(parents=True, exist_ok=True)
    root_path.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    return DevKey(pkcs12_path=pkcs12_path, root_path=root_path, subject=signer.subject.rfc4514_string())


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` readable by the owner only, replacing any previous file atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)
