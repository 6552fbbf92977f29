"""The local CA and server certificate behind ``serve --https``: made once, reused, renewed."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import ssl
from pathlib import Path

from cryptography import x509

from pdfbinder.compat.testing.tls import ensure_tls, trust_lines


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_certificate_names_every_loopback_spelling(tmp_path: Path) -> None:
    files = ensure_tls(tmp_path)

    leaf, ca = load(files.server_cert), load(files.ca_cert)
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert set(names.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    }
    leaf.verify_directly_issued_by(ca)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert files.ca_key.stat().st_mode & 0o077 == 0
    assert files.server_key.stat().st_mode & 0o077 == 0


def test_python_ssl_accepts_the_chain_for_localhost(tmp_path: Path) -> None:
    files = ensure_tls(tmp_path)
    client = ssl.create_default_context(cafile=str(files.ca_cert))
    client.verify_flags |= ssl.VERIFY_X509_STRICT
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(files.server_cert, files.server_key)
    client_side, server_side = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls_client = client.wrap_bio(server_side, client_side, server_hostname="localhost")
    tls_server = server.wrap_bio(client_side, server_side, server_side=True)

    for _ in range(10):  # pump the handshake between the two in-memory ends
        for end in (tls_client, tls_server):
            with contextlib.suppress(ssl.SSLWantReadError):
                end.do_handshake()
    peer = tls_client.getpeercert()
    assert peer is not None, "the handshake did not finish"
    assert peer["subject"] == ((("commonName", "localhost"),),)


def test_files_are_reused_while_valid(tmp_path: Path) -> None:
    first = ensure_tls(tmp_path)
    before = {path: path.read_bytes() for path in vars(first).values()}

    second = ensure_tls(tmp_path)

    assert {path: path.read_bytes() for path in vars(second).values()} == before


def test_missing_server_certificate_is_reissued_under_the_same_ca(tmp_path: Path) -> None:
    files = ensure_tls(tmp_path)
    ca_before = files.ca_cert.read_bytes()
    old_leaf = files.server_cert.read_bytes()
    files.server_cert.unlink()

    ensure_tls(tmp_path)

    assert files.ca_cert.read_bytes() == ca_before
    assert files.server_cert.read_bytes() != old_leaf
    load(files.server_cert).verify_directly_issued_by(load(files.ca_cert))


def test_damaged_ca_is_replaced(tmp_path: Path) -> None:
    files = ensure_tls(tmp_path)
    files.ca_cert.write_text("not a certificate")

    ensure_tls(tmp_path)

    ca = load(files.ca_cert)
    assert ca.not_valid_after_utc > datetime.datetime.now(datetime.timezone.utc)
    load(files.server_cert).verify_directly_issued_by(ca)


def test_trust_lines_name_the_ca_for_every_client(tmp_path: Path) -> None:
    files = ensure_tls(tmp_path)
    ca = files.ca_cert
    commands = [line for line in trust_lines(files) if not line.startswith("#")]
    assert commands == [
        f"export REQUESTS_CA_BUNDLE={ca} SSL_CERT_FILE={ca}",
        f"export NODE_EXTRA_CA_CERTS={ca}",
        f"export CURL_CA_BUNDLE={ca}",
        "keytool -importcert -noprompt -cacerts -storepass changeit "
        f"-alias pdfbinder-local-ca -file {ca}",
        f"sudo cp {ca} /usr/local/share/ca-certificates/pdfbinder-local-ca.crt && "
        "sudo update-ca-certificates",
    ]
