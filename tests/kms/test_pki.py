import os
import stat

import pytest

pytest.importorskip("cryptography")

from qnetai.kms.pki import PkiError, init_pki


def test_init_pki_writes_certificates_with_private_keys_0600(tmp_path):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    out = tmp_path / "pki"
    files = init_pki(out, ["alice", "bob"])
    assert set(files) == {f"{n}.{e}" for n in ("ca", "kme", "alice", "bob") for e in ("pem", "key")}
    for name, path in files.items():
        assert os.path.dirname(path) == str(out)
        mode = stat.S_IMODE(os.stat(path).st_mode)
        assert mode == (0o600 if name.endswith(".key") else 0o644)
    ca = x509.load_pem_x509_certificate((out / "ca.pem").read_bytes())
    cert = x509.load_pem_x509_certificate((out / "alice.pem").read_bytes())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "alice"
    assert cert.issuer == ca.subject
    cert.verify_directly_issued_by(ca)


def test_refuses_foreign_files_and_bad_ids(tmp_path):
    out = tmp_path / "pki"
    out.mkdir()
    (out / "bob.key").write_text("not ours")
    with pytest.raises(PkiError, match="not created"):
        init_pki(out, ["alice", "bob"])
    assert (out / "bob.key").read_text() == "not ours"
    assert not (out / "alice.pem").exists()  # refused before writing anything
    for bad in ("../x", "a/b", ".hidden", "ca", ""):
        with pytest.raises(PkiError):
            init_pki(out, [bad])


def test_rerun_reuses_its_ca_but_not_modified_files(tmp_path):
    out = tmp_path / "pki"
    init_pki(out, ["alice"])
    ca = (out / "ca.pem").read_bytes()
    init_pki(out, ["alice", "carol"])
    assert (out / "ca.pem").read_bytes() == ca and (out / "carol.pem").exists()
    (out / "alice.pem").write_text("edited by someone")
    with pytest.raises(PkiError):
        init_pki(out, ["alice"])
