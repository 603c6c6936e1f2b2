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


def start_slapd(root: Path) -> Directory:
    if not (SLAPD.exists() and SLAPADD.exists()):
        pytest.skip("slapd is not installed (scripts/install-test-deps.sh installs Debian's "
                    "slapd as root)")
    shutil.rmtree(root, ignore_errors=True)
    (root / "db").mkdir(parents=True)
    conf = root / "slapd.conf"
    conf.write_text(CONF.format(dir=root, suffix=SUFFIX))
    (root / "data.ldif").write_text(LDIF)
    subprocess.run([SLAPADD, "-f", conf, "-l", root / "data.ldif"], check=True,
                   capture_output=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"ldap://127.0.0.1:{port}"
    process = subprocess.Popen([SLAPD, "-f", conf, "-h", url + "/", "-d", "0"],
                               stdout=subprocess.DEVNULL, stderr=(root / "slapd.log").open("wb"))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return Directory(url, process, root)
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("slapd did not start: " + (root / "slapd.log").read_text()[-2000:])
