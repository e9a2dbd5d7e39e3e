#!/usr/bin/env bash
# Runs the built tests (`make test`) with HOME and XDG_STATE_HOME in a fresh folder, and
# fails if any test left awsgw state there: tests never touch the user's own folders.
set -euo pipefail
swift=${1:-swift}
home=$(mktemp -d -t awsgw-test-home.XXXXXX)
trap 'rm -rf "$home"' EXIT
set +e
HOME="$home" XDG_STATE_HOME="$home/state" $swift test --skip-build 2>&1 | tee .build/test-output.log
status=${PIPESTATUS[0]}
set -e
leaked=$(find "$home/state" "$home/.local/state" -path '*awsgw*' 2>/dev/null | head -5 || true)
if [ -n "$leaked" ]; then
  echo "run-tests: a test wrote awsgw state into the user's folders (HOME/XDG_STATE_HOME): $leaked" >&2
  exit 1
fi
exit "$status"
