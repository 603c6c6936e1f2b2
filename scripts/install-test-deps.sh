#!/usr/bin/env bash
# Install what the browser and directory tests need and pip cannot provide: Debian's chromium
# and its driver, and OpenLDAP's slapd (the LDAP login tests start their own on loopback).
# Idempotent; CI runs it as root on a fresh machine. Without root (a developer box) it only
# says what is missing, and the browser tests skip with that reason.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 && [ -x /usr/bin/chromedriver ] && \
   [ -x /usr/sbin/slapd ] && command -v ldapadd >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-deps: chromium/chromium-driver/slapd missing; run as root:" \
         "apt-get install -y chromium chromium-driver slapd ldap-utils" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends chromium chromium-driver fonts-dejavu-core \
    slapd ldap-utils
