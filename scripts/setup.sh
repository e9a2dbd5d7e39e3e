#!/usr/bin/env bash
# Fetches the pinned botocore source distribution from PyPI, checks its sha256, and
# unpacks its service models into ./models, AWS's test suites into ./fixtures, and
# botocore's own Python code into ./fixtures/botocore/python (the reference the
# pagination and waiter tests run: the pinned release, whatever botocore the system has).
# Does nothing when both are already there for this version. Nothing here is committed.
set -euo pipefail

BOTOCORE_VERSION="1.44.5"
BOTOCORE_SHA256="a988f39e3a4484def0b8010f41128f71157da0515a4804fccce4739aa8f216da"

root="$(cd "$(dirname "$0")/.." && pwd)"
stamp="botocore-$BOTOCORE_VERSION"
if [ "$(cat "$root/models/.version" 2>/dev/null)" = "$stamp" ] &&
   [ "$(cat "$root/fixtures/botocore/.version" 2>/dev/null)" = "$stamp" ] &&
   [ -f "$root/fixtures/botocore/python/botocore/paginate.py" ]; then
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "setup: downloading botocore $BOTOCORE_VERSION source distribution" >&2
python3 -m pip download --quiet --no-deps --no-binary :all: "botocore==$BOTOCORE_VERSION" -d "$work" >&2
archive="$work/botocore-$BOTOCORE_VERSION.tar.gz"
[ -f "$archive" ] || { echo "setup: $archive was not downloaded" >&2; exit 1; }
actual="$(sha256sum "$archive" | cut -d' ' -f1)"
if [ "$actual" != "$BOTOCORE_SHA256" ]; then
  echo "setup: sha256 mismatch for $archive: expected $BOTOCORE_SHA256, got $actual" >&2
  exit 1
fi

src="botocore-$BOTOCORE_VERSION"
tar -xzf "$archive" -C "$work" \
  "$src/botocore" \
  "$src/tests/unit/protocols" \
  "$src/tests/unit/auth/aws4_testsuite" \
  "$src/tests/functional/endpoint-rules"

rm -rf "$root/models" "$root/fixtures/botocore"
mkdir -p "$root/fixtures/botocore"
mv "$work/$src/botocore/data" "$root/models"
mv "$work/$src/tests" "$root/fixtures/botocore/tests"
mkdir -p "$root/fixtures/botocore/python"
mv "$work/$src/botocore" "$root/fixtures/botocore/python/botocore"
echo "$stamp" > "$root/models/.version"
echo "$stamp" > "$root/fixtures/botocore/.version"
echo "setup: models in ./models, test suites in ./fixtures/botocore" >&2
