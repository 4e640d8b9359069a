#!/usr/bin/env bash
# Runs every test: vet, gofmt, and `go test -race` over all packages,
# including the end-to-end runs of real certbot against real pebble and the
# simulated Tencent Cloud, and promtool's tests of scripts/monitoring/alerts.yml.
# Installs certbot, pebble and promtool first if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh

unformatted=$(gofmt -l $(find . -name '*.go' -not -path './.git/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" >&2
  echo "$unformatted" >&2
  exit 1
fi
# urfave_cli_no_docs leaves urfave/cli's own man-page writer out: the
# binaries have one, internal/cli's (TestOneManPageWriter).
go vet -tags urfave_cli_no_docs ./...
# The README's first command, as a new user runs it: it fails unless the
# simulated listener serves the certificate certbot saved. Its end is shown
# here, from the served certificate's subject and names on, and checked.
demo_log=$(mktemp)
scripts/demo.sh >"$demo_log" 2>&1 || { cat "$demo_log" >&2; echo "scripts/demo.sh failed" >&2; exit 1; }
sed -n '/serves now: the certificate certbot saved/,$p' "$demo_log"
for want in 'subject=CN ?= ?example.test' 'DNS:example.test, DNS:\*.example.test' '^backend web1$' '^backend web2$' 'ECDSA clients get example.test.s certificate, RSA clients example.test-rsa.s: certbot renews both members' 'after the fixes, OK'; do
  grep -Eq "$want" "$demo_log" || { cat "$demo_log" >&2; echo "scripts/demo.sh did not print /$want/" >&2; exit 1; }
done
rm -f "$demo_log"
# CLBCERT_REQUIRE_E2E turns a missing certbot, pebble or promtool into a failure,
# not a skip.
CLBCERT_REQUIRE_E2E=1 go test -tags urfave_cli_no_docs -race -count=1 -timeout 20m ./...
