"""A private certificate authority and a localhost server certificate for ``serve --https``.

The Cloud API Server samples hard-code ``https://localhost``; to run them unedited, pdfbinder
serves TLS with a certificate that clients can be told to trust: one environment line for Python,
Node.js and cURL, one store import for Java and .NET (:func:`trust_lines`).
The CA and the leaf live in ``<data-dir>/tls/`` and are made once, then reused while valid, so a
client that trusts the CA keeps trusting restarted servers.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..clock import utcnow

SERVER_NAMES: tuple[str, ...] = ("localhost",)
SERVER_ADDRESSES: tuple[str, ...] = ("127.0.0.1", "::1")
_CA_LIFETIME = datetime.timedelta(days=3650)
_LEAF_LIFETIME = datetime.timedelta(days=825)
# Renew a little before expiry so a long-running server never starts with a dying certificate.
_RENEW_MARGIN = datetime.timedelta(days=1)
_CLOCK_SKEW = datetime.timedelta(hours=1)


@dataclass(frozen=True)
class TlsFiles:
    """Paths of the PEM files a TLS server and its clients need."""

    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path


def tls_files(data_dir: Path) -> TlsFiles:
    """Where the TLS material for ``data_dir`` lives (whether or not it exists yet)."""
    folder = Path(data_dir) / "tls"
    return TlsFiles(
        ca_cert=folder / "ca.pem",
        ca_key=folder / "ca-key.pem",
        server_cert=folder / "server.pem",
        server_key=folder / "server-key.pem",
    )


def ensure_tls(data_dir: Path) -> TlsFiles:
    """Return usable TLS files under ``data_dir``, creating or renewing only what is missing.

    A valid CA is kept even when the server certificate has to be re-issued, so clients that
    already trust the CA need no change.
    """
    files = tls_files(data_dir)
    files.ca_cert.parent.mkdir(parents=True, exist_ok=True)
    ca = _load_valid_ca(files)
    if ca is None:
        ca = _create_ca(files)
        _issue_server_certificate(files, *ca)
    elif not _server_certificate_valid(files, ca[0]):
        _issue_server_certificate(files, *ca)
    return files


CA_ALIAS = "pdfbinder-local-ca"


def trust_lines(files: TlsFiles) -> list[str]:
    """Shell lines that make clients trust the local CA, each after a comment naming them.

    Python (``requests``, ``httpx``, ``urllib``) and Node.js read an environment
    variable for this session; cURL reads ``CURL_CA_BUNDLE`` (or takes ``--cacert``);
    Java and .NET on Linux read a certificate store, so their lines add the CA to it
    once (``keytool -cacerts`` needs JDK 9 or later; .NET on Linux uses the system's
    OpenSSL store, which ``update-ca-certificates`` fills on Debian and Ubuntu).
    """
    ca = files.ca_cert
    return [
        "# Python (requests, httpx, urllib):",
        f"export REQUESTS_CA_BUNDLE={ca} SSL_CERT_FILE={ca}",
        "# Node.js:",
        f"export NODE_EXTRA_CA_CERTS={ca}",
        "# cURL (or: curl --cacert <file>):",
        f"export CURL_CA_BUNDLE={ca}",
        "# Java (the JDK's cacerts store, once):",
        f"keytool -importcert -noprompt -cacerts -storepass changeit -alias {CA_ALIAS} -file {ca}",
        "# .NET and PowerShell on Linux (the system store, once):",
        f"sudo cp {ca} /usr/local/share/ca-certificates/{CA_ALIAS}.crt && "
        "sudo update-ca-certificates",
    ]


def _fresh(certificate: x509.Certificate) -> bool:
    now = utcnow()
    return (
        certificate.not_valid_before_utc <= now
        and certificate.not_valid_after_utc > now + _RENEW_MARGIN
    )


def _load_valid_ca(files: TlsFiles) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None:
    if not (files.ca_cert.is_file() and files.ca_key.is_file()):
        return None
    try:
        certificate = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
        key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
    except ValueError:
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not _fresh(certificate):
        return None
    if certificate.public_key() != key.public_key():
        return None
    return certificate, key


def _server_certificate_valid(files: TlsFiles, ca: x509.Certificate) -> bool:
    if not (files.server_cert.is_file() and files.server_key.is_file()):
        return False
    try:
        certificate = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
        key = serialization.load_pem_private_key(files.server_key.read_bytes(), password=None)
        certificate.verify_directly_issued_by(ca)
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
        return False
    wanted = set(_subject_alternative_names())
    return (
        _fresh(certificate)
        and certificate.public_key() == key.public_key()
        and wanted <= set(names)
    )


def _subject_alternative_names() -> list[x509.GeneralName]:
    dns: list[x509.GeneralName] = [x509.DNSName(name) for name in SERVER_NAMES]
    ips: list[x509.GeneralName] = [
        x509.IPAddress(ipaddress.ip_address(address)) for address in SERVER_ADDRESSES
    ]
    return dns + ips


def _create_ca(files: TlsFiles) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pdfbinder local CA")])
    now = utcnow()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(now + _CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signs_certificates=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(files.ca_key, _pem_key(key))
    _write_public(files.ca_cert, certificate.public_bytes(serialization.Encoding.PEM))
    return certificate, key


def _issue_server_certificate(
    files: TlsFiles, ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = utcnow()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAMES[0])]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(min(now + _LEAF_LIFETIME, ca.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signs_certificates=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(_subject_alternative_names()), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(files.server_key, _pem_key(key))
    _write_public(files.server_cert, certificate.public_bytes(serialization.Encoding.PEM))


def _key_usage(*, signs_certificates: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not signs_certificates,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=signs_certificates,
        crl_sign=signs_certificates,
        encipher_only=False,
        decipher_only=False,
    )


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_private(path: Path, data: bytes) -> None:
    """Write a key readable by its owner only, atomically (no half-written key on a crash)."""
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def _write_public(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
