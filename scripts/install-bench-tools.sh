#!/usr/bin/env bash
# What `make bench-peer` and scripts/callgrind_pipeline.sh drive, from Debian's packages:
# nginx (the stand-in for AWS), wrk (the load), a C compiler (scripts/loadgen.c, the load on
# a Unix socket), Go (builds aws-sigv4-proxy), valgrind.
set -euo pipefail
need=()
[ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v wrk >/dev/null || need+=(wrk)
command -v cc >/dev/null || need+=(gcc)
command -v go >/dev/null || need+=(golang-go)
command -v valgrind >/dev/null || need+=(valgrind)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "bench tools missing: ${need[*]} (apt-get install them as root)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q "${need[@]}" >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q "${need[@]}" >/dev/null; }
