"""Egress proof: the whole life of the appliance (tests/ops/egress_life.py: init, ingest, ask,
serve, web login and chat, an API call, audit export and verify) runs inside a network
namespace with only loopback, under `strace -f`, and every connect/sendto/sendmsg address
any of its processes used is read back: none may be anything but loopback, a unix socket or
the kernel (netlink). Attempts count, not just successes: in the namespace a connection to
another host would fail, and strace would still show it."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from opstools import ROOT, system_tool

pytestmark = pytest.mark.slow

NETWORK_CALLS = ("connect", "sendto", "sendmsg", "sendmmsg")
CALL = re.compile(r"^(?:\[pid\s+)?(\d+)\]?\s+(?:<\.\.\. )?(\w+)\(")
FAMILY = re.compile(r"sa_family=(AF_\w+)")
IPV4 = re.compile(r'inet_addr\("([^"]+)"\)')
IPV6 = re.compile(r'inet_pton\(AF_INET6, "([^"]+)"')


def _loopback(address: str) -> bool:
    import ipaddress

    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def network_attempts(log: str) -> tuple[Counter, list[str]]:
    """(count per destination kind, the lines that reached beyond loopback) from strace -f."""
    seen, outside = Counter(), []
    for line in log.splitlines():
        match = CALL.match(line)
        if not match or match.group(2) not in NETWORK_CALLS or "resumed>" in line:
            continue
        families = FAMILY.findall(line)
        if not families:
            continue  # sendto/sendmsg on a connected socket: its connect() was counted
        for family in families:
            if family in ("AF_UNIX", "AF_NETLINK", "AF_UNSPEC"):
                seen[family] += 1
            elif family in ("AF_INET", "AF_INET6"):
                addresses = IPV4.findall(line) + IPV6.findall(line)
                if addresses and all(_loopback(a) for a in addresses):
                    seen["loopback"] += 1
                else:
                    outside.append(line)
            else:
                outside.append(line)
    return seen, outside


def test_the_parser_flags_anything_beyond_loopback():
    log = "\n".join([
        '101 connect(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
        '101 connect(4, {sa_family=AF_UNIX, sun_path="/run/appliance/appliance.sock"}, 110) = 0',
        '102 connect(5, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), '
        'inet_pton(AF_INET6, "2001:db8::1", &sin6_addr), sin6_scope_id=0}, 28 <unfinished ...>',
        '103 sendto(6, "\\x12\\x34", 40, 0, {sa_family=AF_INET, sin_port=htons(53), '
        'sin_addr=inet_addr("192.0.2.53")}, 16) = -1 ENETUNREACH (Network is unreachable)',
        '104 connect(7, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), '
        'inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0',
        '105 sendmsg(8, {msg_name={sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, '
        'msg_namelen=12}, 0) = 20',
        '106 <... connect resumed>) = -1 ENETUNREACH (Network is unreachable)',
    ])
    seen, outside = network_attempts(log)
    assert seen == Counter({"loopback": 2, "AF_UNIX": 1, "AF_NETLINK": 1})
    assert len(outside) == 2 and "2001:db8::1" in outside[0] and "192.0.2.53" in outside[1]


def test_the_whole_life_makes_no_connection_attempt_beyond_loopback(netns, tmp_path):
    strace = system_tool("strace")
    data, trace = tmp_path / "data", tmp_path / "strace.log"
    result = netns.run([strace, "-f", "--seccomp-bpf", "-qq", "-s", "128", "-o", trace,
                        "-e", "trace=" + ",".join(NETWORK_CALLS), "-e", "signal=none",
                        sys.executable, ROOT / "tests" / "ops" / "egress_life.py", data, "18080"],
                       capture_output=True, text=True, timeout=1800, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    life = json.loads(result.stdout.strip().splitlines()[-1])
    # The life really happened: answers with citations on every path, a verified audit trail.
    assert life["ingested_chunks"] > 0 and life["cli_citations"]
    assert life["web_login"] == 303 and life["web_chat_events"] > 0
    assert life["api_status"] == 200 and life["api_citations"]
    assert "ok" in life["audit_verify"].lower() and "ok" in life["export_verify"].lower()

    seen, outside = network_attempts(trace.read_text(errors="replace"))
    figures = ROOT / "test-artifacts" / "ops-egress.json"
    figures.parent.mkdir(exist_ok=True)
    figures.write_text(json.dumps({"attempts_by_kind": seen, "outbound": len(outside),
                                   "life": life}, indent=1))
    assert seen["loopback"] > 0, "strace saw no loopback traffic: it did not trace the life"
    assert outside == [], "connection attempts beyond loopback:\n" + "\n".join(outside[:20])
