#!/usr/bin/env bash
# Fails if the test run's output holds any secret the tests hand the gateway: keys,
# session tokens and process/STS/SSO answers are secrets and must never be logged,
# printed or put in an error.
set -euo pipefail
log="$1"
secrets=(
  "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"  # the example secret key
  "base-secret-value"                         # a static source's secret
  "SECRET-ASIA"                               # secrets STS, containers and IMDS hand out
  "TOKEN-ASIA"                                # session tokens STS hands out
  "SECRETENV" "TOKENENV"                      # environment credentials
)
found=0
for secret in "${secrets[@]}"; do
  if grep -qF -- "$secret" "$log"; then
    echo "secret scan: the test output contains \"$secret\":" >&2
    grep -nF -- "$secret" "$log" | head -5 >&2
    found=1
  fi
done
if [ "$found" -ne 0 ]; then exit 1; fi
echo "secret scan: none of ${#secrets[@]} test secrets in $(wc -l < "$log") lines of test output"
