#!/usr/bin/env bash
# Installs the programs the tests drive (curl, redis-server, systemd-analyze) from Debian's packages when they are
# missing. Needs root (CI runs as root); elsewhere it says what to install and the
# tests that need the program are skipped with that reason.
set -euo pipefail
missing=()
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# systemd-analyze verifies deploy/awsgw.service (DeployTests).
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
# Python's jmespath (botocore's) is the reference AWSJMESPathTests compares with; from PyPI.
if ! python3 -c 'import jmespath' >/dev/null 2>&1; then
  echo "tools: installing jmespath==1.1.0 from PyPI" >&2
  python3 -m pip install --quiet jmespath==1.1.0 >&2 || echo "tools: pip install jmespath==1.1.0 failed; the JMESPath agreement test is skipped" >&2
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "tools: installing ${missing[*]}" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "tools: ${missing[*]} not installed (apt-get install ${missing[*]}); the tests that need it are skipped" >&2
fi
