"""A real OpenLDAP slapd on loopback for the directory-login tests: its own config, database
and port in a temp dir, people and groups loaded with slapadd. Skips with the reason where
Debian's slapd is not installed (scripts/install-test-deps.sh installs it)."""
from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

SLAPD, SLAPADD = Path("/usr/sbin/slapd"), Path("/usr/sbin/slapadd")
SUFFIX = "dc=example,dc=org"
PASSWORDS = {"nina": "nina-directory-pass", "omar": "omar-directory-pass",
             "dora": "dora-directory-pass", "ivan": "ivan-directory-pass"}

CONF = """include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {dir}/slapd.pid
database mdb
maxsize 10485760
suffix "{suffix}"
rootdn "cn=admin,{suffix}"
rootpw admin-secret
directory {dir}/db
access to attrs=userPassword by anonymous auth by self read by * none
access to * by users read by * none
"""


def _person(uid: str, name: str, kind: str = "staff") -> str:
    return (f"dn: uid={uid},ou=people,{SUFFIX}\nobjectClass: inetOrgPerson\nuid: {uid}\n"
            f"cn: {name}\nsn: {name.split()[-1]}\nemployeeType: {kind}\n"
            f"userPassword: {PASSWORDS[uid]}\n\n")


def _group(cn: str, members: list[str]) -> str:
    lines = "".join(f"member: uid={m},ou=people,{SUFFIX}\n" for m in members)
    return f"dn: cn={cn},ou=groups,{SUFFIX}\nobjectClass: groupOfNames\ncn: {cn}\n{lines}\n"


LDIF = (f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Example\n"
        f"dc: example\n\n"
        f"dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people\n\n"
        f"dn: ou=groups,{SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n\n"
        + _person("nina", "Nina Ward") + _person("omar", "Omar Admin")
        + _person("dora", "Dora Left", "disabled") + _person("ivan", "Ivan Audit")
        + _group("ward-nurses", ["nina", "dora"]) + _group("it-admins", ["omar"])
        + _group("compliance", ["ivan"]))


@dataclass
class Directory:
    url: str
    process: subprocess.Popen
    root: Path
    ldaps_url: str = ""
    ca_file: str = ""

    def settings(self, **kw) -> dict:
        """The appliance settings that log in against this directory."""
        return {"ldap_url": self.url,
                "ldap_user_dn": f"uid={{username}},ou=people,{SUFFIX}",
                "ldap_group_base": f"ou=groups,{SUFFIX}",
                "ldap_user_filter": "(!(employeeType=disabled))",
                "ldap_group_map": "ward-nurses=ward, it-admins=it",
                "ldap_role_map": "it-admins=admin, compliance=auditor", **kw}

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def make_ca(root: Path, name: str) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate it signed for 127.0.0.1 (openssl):
    returns (ca.crt, server.crt, server.key)."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is needed for the directory TLS tests")
    root.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, csr, cert = (root / f"{name}-{part}" for part in
                                  ("ca.key", "ca.crt", "server.key", "server.csr",
                                   "server.crt"))
    ext = root / f"{name}-ext.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")

    def run(*args):
        subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
        f"/CN={name} test CA", "-keyout", ca_key, "-out", ca)
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", key,
        "-out", csr)
    run("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-days",
        "2", "-extfile", ext, "-out", cert)
    for path in (key, cert, ca):
        path.chmod(0o644)
    return ca, cert, key


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_slapd(root: Path, tls: bool = False) -> Directory:
    """slapd on ldap://127.0.0.1:PORT; with `tls`, StartTLS on it and ldaps:// on a second
    port too, with a certificate from a throwaway CA (Directory.ca_file)."""
    if not (SLAPD.exists() and SLAPADD.exists()):
        pytest.skip("slapd is not installed (scripts/install-test-deps.sh installs Debian's "
                    "slapd as root)")
    shutil.rmtree(root, ignore_errors=True)
    (root / "db").mkdir(parents=True)
    conf = root / "slapd.conf"
    tls_lines, ca = "", None
    if tls:
        ca, cert, key = make_ca(root, "directory")
        tls_lines = (f"TLSCACertificateFile {ca}\nTLSCertificateFile {cert}\n"
                     f"TLSCertificateKeyFile {key}\n")
    conf.write_text(tls_lines + CONF.format(dir=root, suffix=SUFFIX))
    (root / "data.ldif").write_text(LDIF)
    subprocess.run([SLAPADD, "-f", conf, "-l", root / "data.ldif"], check=True,
                   capture_output=True)
    port = _free_port()
    url = f"ldap://127.0.0.1:{port}"
    listen, ldaps_url = url + "/", ""
    if tls:
        ldaps_port = _free_port()
        ldaps_url = f"ldaps://127.0.0.1:{ldaps_port}"
        listen += f" {ldaps_url}/"
    process = subprocess.Popen([SLAPD, "-f", conf, "-h", listen, "-d", "0"],
                               stdout=subprocess.DEVNULL, stderr=(root / "slapd.log").open("wb"))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return Directory(url, process, root, ldaps_url, str(ca or ""))
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("slapd did not start: " + (root / "slapd.log").read_text()[-2000:])
