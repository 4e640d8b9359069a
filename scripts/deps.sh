#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for the demo and the tests:
# certbot and pebble (Debian packages), promtool (Debian's prometheus package,
# for the alert rules' tests), openssl, curl, python3 (the demo picks free
# ports with it), lintian (the release test checks the Debian package with
# it), a C compiler and libc headers (go test -race needs cgo), and Go on
# PATH. Sourced by scripts/demo.sh and scripts/test.sh.
if [ -x /usr/local/go/bin/go ] && ! command -v go >/dev/null; then
  export PATH="$PATH:/usr/local/go/bin"
fi
command -v go >/dev/null || { echo "Go is not installed: install Go 1.26 or newer (https://go.dev/doc/install)" >&2; exit 2; }
clbcert_missing=()
# tool:packages, where the packages are named otherwise.
for tool in certbot pebble promtool:prometheus openssl curl python3 lintian "cc:gcc libc6-dev"; do
  # Unquoted: one word per package.
  command -v "${tool%%:*}" >/dev/null || clbcert_missing+=(${tool#*:})
done
if [ ${#clbcert_missing[@]} -gt 0 ]; then
  echo "installing ${clbcert_missing[*]} with apt-get" >&2
  clbcert_sudo=""
  [ "$(id -u)" -eq 0 ] || clbcert_sudo=sudo
  $clbcert_sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $clbcert_sudo apt-get install -y -qq --no-install-recommends "${clbcert_missing[@]}" >/dev/null
fi
unset clbcert_missing clbcert_sudo
