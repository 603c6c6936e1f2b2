#!/usr/bin/env bash
# Install what the ops tests (tests/ops) need: ansible-core, ansible-lint, yamllint and hadolint
# in their own virtualenv (.venv-ops); Debian's nginx, strace, iproute2 and systemd
# (systemd-analyze); and the bundle's wheel cache. Idempotent; CI runs it as root on a fresh
# machine. Without root it only installs the virtualenv and the cache and says what is missing;
# those tests then skip with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."

OPS_VENV=${OPS_VENV:-.venv-ops}
PYTHON=${PYTHON:-python3}
REQ=tests/ops/requirements.txt
STAMP="$OPS_VENV/.installed-$(sha256sum "$REQ" | cut -c1-16)"

if [ ! -e "$STAMP" ]; then
    test -x "$OPS_VENV/bin/python" || "$PYTHON" -m venv "$OPS_VENV"
    "$OPS_VENV/bin/pip" install -q --disable-pip-version-check -r "$REQ"
    rm -f "$OPS_VENV"/.installed-*
    touch "$STAMP"
fi

# The bundle's wheels and model, downloaded once per machine into ~/.cache/appliance-bundle
# (network, here at set-up): the install test then builds the bundle from the cache offline.
if [ -x .venv/bin/python ]; then
    .venv/bin/python scripts/bundle.py fetch
fi

missing=()
for tool in nginx:nginx strace:strace ip:iproute2 systemd-analyze:systemd openssl:openssl; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/${tool%%:*}" ] || missing+=("${tool#*:}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "ops-install-test-deps: missing ${missing[*]}; run as root: apt-get install -y ${missing[*]}" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# Install nginx without starting it: the tests start their own, inside a network namespace.
created_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    created_policy=1
fi
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
[ "$created_policy" -eq 1 ] && rm -f /usr/sbin/policy-rc.d
exit 0
