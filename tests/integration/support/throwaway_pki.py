"""A throwaway PKI for tests of TLS (made with the openssl CLI, EC P-256: fast): a CA and
server certificates it signs, as PEM files in a temp dir.

Usage:
    pki = TestPki()                                   # makes the CA
    cert, key = pki.issue("localhost", "DNS:localhost,IP:127.0.0.1")
    pki.ca_cert                                       # the CA's PEM, for clients to trust
    pki.remove()
"""

import os
import shutil
import subprocess
import tempfile

OPENSSL_BIN = os.environ.get("S3HC_OPENSSL_BIN", "openssl")


def openssl(*args, cwd):
    """Run the openssl CLI; raise with its output if it fails."""
    result = subprocess.run([OPENSSL_BIN, *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed:\n{result.stdout}{result.stderr}")


EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]


class TestPki:
    """A CA and server certificates in a temp dir (PEM files). remove() deletes it."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="s3hc-pki-")
        self.ca_cert = self._path("ca.pem")
        openssl("req", "-x509", *EC_KEY, "-keyout", "ca.key", "-out", "ca.pem",
                "-days", "2", "-subj", "/CN=s3hc test CA", cwd=self.dir)

    def _path(self, name):
        return os.path.join(self.dir, name)

    def issue(self, name, subject_alt_names):
        """Sign a server certificate for CN=name with the given SAN list (e.g.
        "DNS:localhost,IP:127.0.0.1"). Returns (cert_path, key_path)."""
        extensions = self._path(f"{name}.ext")
        with open(extensions, "w") as f:
            f.write(f"subjectAltName={subject_alt_names}\n"
                    "basicConstraints=CA:FALSE\n"
                    "keyUsage=critical,digitalSignature\n"
                    "extendedKeyUsage=serverAuth\n")
        openssl("req", "-new", *EC_KEY, "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/CN={name}", cwd=self.dir)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", "2",
                "-extfile", extensions, "-out", f"{name}.pem", cwd=self.dir)
        return self._path(f"{name}.pem"), self._path(f"{name}.key")

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)
