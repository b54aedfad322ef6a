"""A test PKI for the KMS: a CA, the KME's server certificate and one client certificate per SAE.

:func:`init_pki` writes into one folder only: ``ca.pem``/``ca.key``, ``kme.pem``/``kme.key``
(server certificate for ``localhost`` and ``127.0.0.1``) and ``<SAE ID>.pem``/``.key``
(client certificates whose subject common name is the SAE ID: the KMS reads the SAE
identity from it). Private keys are written with mode 0600. A manifest
(``.qnetai-pki.json``) records the files it created with their SHA-256, and a file that is
not in it, or that changed since, is never overwritten. The keys are ECDSA P-256.

This is a test PKI (no revocation, keys unencrypted on disk), not a production one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path

__all__ = ["MANIFEST", "SAE_ID_PATTERN", "PkiError", "check_sae_id", "init_pki"]

#: Name of the manifest of created files in the output folder.
MANIFEST = ".qnetai-pki.json"
#: SAE IDs accepted (they become file names and certificate common names).
SAE_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_RESERVED = {"ca", "kme"}


class PkiError(Exception):
    """A refused PKI operation (bad SAE ID, a file this tool did not create)."""


def check_sae_id(sae_id: str) -> str:
    """``sae_id`` if it is a valid SAE ID (letters, digits, ``_.-``; 1-64), else PkiError."""
    if not SAE_ID_PATTERN.fullmatch(sae_id) or sae_id.lower() in _RESERVED:
        raise PkiError(
            f"SAE ID {sae_id!r} must match {SAE_ID_PATTERN.pattern} and not be ca or kme"
        )
    return sae_id


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write(path: Path, data: bytes, *, private: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600 if private else 0o644)
    try:
        os.fchmod(fd, 0o600 if private else 0o644)
        os.write(fd, data)
    finally:
        os.close(fd)


def init_pki(
    out_dir: str | os.PathLike[str],
    sae_ids: Sequence[str],
    *,
    server_names: Sequence[str] = ("localhost",),
    server_ips: Sequence[str] = ("127.0.0.1",),
    days: int = 30,
) -> dict[str, str]:
    """Create the CA, the KME certificate and a client certificate per SAE in ``out_dir``.

    Returns the written files by name (``ca.pem``, ``kme.key``, ``<SAE>.pem``...). A CA
    created earlier by this function in the same folder is reused, so certificates issued
    before stay valid. Raises :class:`PkiError` before writing anything if a target file
    exists that this function did not create (or that changed since).
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ids = [check_sae_id(s) for s in sae_ids]
    if not ids or len(set(ids)) != len(ids):
        raise PkiError(f"give one or more distinct SAE IDs (got {list(sae_ids)})")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / MANIFEST
    manifest: dict[str, str] = {}
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())["files"]
    names = ["ca.pem", "ca.key", "kme.pem", "kme.key"]
    names += [f"{s}.{ext}" for s in ids for ext in ("pem", "key")]
    for name in names:
        path = out / name
        if path.is_symlink() or (path.exists() and manifest.get(name) != _sha256(path)):
            raise PkiError(f"{path} exists and was not created by qnetai kms init-pki: refused")

    now = dt.datetime.now(dt.UTC)
    written: dict[str, Path] = {}

    def save(name: str, data: bytes, private: bool) -> None:
        _write(out / name, data, private=private)
        written[name] = out / name

    def pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    if (out / "ca.pem").exists() and (out / "ca.key").exists():
        ca_cert = x509.load_pem_x509_certificate((out / "ca.pem").read_bytes())
        loaded = serialization.load_pem_private_key((out / "ca.key").read_bytes(), None)
        assert isinstance(loaded, ec.EllipticCurvePrivateKey)
        ca_key = loaded
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "qnetai KMS test CA")])
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .sign(ca_key, hashes.SHA256())
        )
        save("ca.key", pem_key(ca_key), True)
        save("ca.pem", ca_cert.public_bytes(serialization.Encoding.PEM), False)

    def issue(name: str, common_name: str, server: bool) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
        )
        if server:
            alt: list[x509.GeneralName] = [x509.DNSName(n) for n in server_names]
            alt += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in server_ips]
            builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        save(f"{name}.key", pem_key(key), True)
        save(f"{name}.pem", cert.public_bytes(serialization.Encoding.PEM), False)

    issue("kme", "qnetai-kme", True)
    for sae in ids:
        issue(sae, sae, False)
    manifest.update({name: _sha256(path) for name, path in written.items()})
    _write(manifest_path, json.dumps({"files": manifest}, indent=1).encode(), private=False)
    return {name: str(path) for name, path in written.items()}
