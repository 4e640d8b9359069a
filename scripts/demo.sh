#!/usr/bin/env bash
# The main job, on this machine only: `clbcert sim` plays Tencent Cloud
# (DNSPod with two authoritative nameservers and a 2 s propagation delay,
# SSL Certificates, and a CLB whose listeners serve TLS on 127.0.0.11),
# pebble plays Let's Encrypt, certbot issues a wildcard + apex certificate
# through `clbcert-dns`, and `clbcert-deploy` puts it on the listeners.
# Nothing leaves 127.0.0.0/8.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/deps.sh

work=$(mktemp -d /tmp/clbcert-demo.XXXXXX)
pids=()
finish() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap finish EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "build the binaries into $work/bin"
go build -tags urfave_cli_no_docs -o "$work/bin/" ./hooks/...
export PATH="$work/bin:$PATH"

step "start the simulated Tencent Cloud"
clbcert sim --zone example.test --nameserver 127.0.0.1 --nameserver 127.0.0.2 --propagation-delay 2s \
  --topology testdata/topologies/demo.json --placeholder-cert 'Demo0001=example.test,*.example.test' \
  --placeholder-cert 'Demo0002:RSA=example.test,*.example.test' \
  --env-file "$work/sim.env" >"$work/sim.out" 2>"$work/sim.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/sim.env" ] && break; sleep 0.1; done
[ -s "$work/sim.env" ] || { cat "$work/sim.log" >&2; exit 1; }
cat "$work/sim.out"
. "$work/sim.env"
export CLBCERT_STATE_DIR="$work/state"

step "start pebble, a local ACME CA that resolves through the simulator"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj /CN=clbcert-demo-ca -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
  -keyout "$work/pebble.key" -out "$work/pebble.csr" 2>/dev/null
openssl x509 -req -in "$work/pebble.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -days 1 \
  -extfile <(printf 'subjectAltName=IP:127.0.0.1,DNS:localhost') -out "$work/pebble.pem" 2>/dev/null
acme_port=$(free_port)
cat >"$work/pebble.json" <<JSON
{"pebble": {"listenAddress": "127.0.0.1:$acme_port", "managementListenAddress": "127.0.0.1:$(free_port)",
  "certificate": "$work/pebble.pem", "privateKey": "$work/pebble.key",
  "httpPort": $(free_port), "tlsPort": $(free_port), "ocspResponderURL": "", "externalAccountBindingRequired": false}}
JSON
dns_server=${CLBCERT_RESOLVER}
PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0 \
  pebble -config "$work/pebble.json" -dnsserver "$dns_server" >"$work/pebble.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$acme_port") 2>/dev/null && break; sleep 0.1; done
echo "pebble at https://127.0.0.1:$acme_port/dir, resolving through $dns_server"

served() {
  echo | openssl s_client -connect 127.0.0.11:8443 -servername www.example.test 2>/dev/null |
    openssl x509 -noout -subject -issuer -ext subjectAltName -enddate
}
step "what the load balancer's HTTPS listener serves now (127.0.0.11:8443, SNI www.example.test)"
served

step "certbot issues example.test + *.example.test with the clbcert-dns hooks and deploys it with clbcert-deploy"
set -x
REQUESTS_CA_BUNDLE="$work/ca.pem" certbot certonly --manual --preferred-challenges dns \
  -d example.test -d '*.example.test' \
  --manual-auth-hook 'clbcert-dns auth' --manual-cleanup-hook 'clbcert-dns cleanup' \
  --deploy-hook 'clbcert-deploy' \
  --server "https://127.0.0.1:$acme_port/dir" --non-interactive --agree-tos -m demo@example.test \
  --config-dir "$work/letsencrypt" --work-dir "$work/work" --logs-dir "$work/logs"
{ set +x; } 2>/dev/null

step "what the load balancer's HTTPS listener serves now: the certificate certbot saved"
served
echo
saved=$(openssl x509 -in "$work/letsencrypt/live/example.test/cert.pem" -noout -fingerprint -sha256)
now=$(echo | openssl s_client -connect 127.0.0.11:8443 -servername www.example.test 2>/dev/null | openssl x509 -noout -fingerprint -sha256)
echo "certbot saved: $saved"
echo "served:        $now"
if [ "$saved" != "$now" ]; then
  echo "the listener does not serve the certificate certbot saved" >&2
  exit 1
fi

step "the dual listener (127.0.0.11:9443) holds an RSA and an ECDSA certificate: certbot's ECDSA one replaced only its own member"
member() {
  echo | openssl s_client -connect 127.0.0.11:9443 -servername www.example.test -tls1_2 -cipher "$1" 2>/dev/null | openssl x509 -noout "${@:2}"
}
echo "RSA clients:   $(member ECDHE-RSA-AES128-GCM-SHA256 -subject)"
echo "ECDSA clients: $(member ECDHE-ECDSA-AES128-GCM-SHA256 -subject)"
if [ "$(member ECDHE-ECDSA-AES128-GCM-SHA256 -fingerprint -sha256)" != "$saved" ]; then
  echo "the dual listener does not serve ECDSA clients the certificate certbot saved" >&2
  exit 1
fi
if [ "$(member ECDHE-RSA-AES128-GCM-SHA256 -fingerprint -sha256)" = "$saved" ]; then
  echo "the dual listener lost its RSA member" >&2
  exit 1
fi

step "certbot issues an RSA lineage for the same names, pinned in the config file to the dual listener: it renews the RSA member"
# Pinned, because the ECDSA-only listeners would otherwise become pairs
# too (another lineage renews their other algorithm): that is how an
# operator who keeps both lineages gets RSA + ECDSA everywhere.
cat >"$work/config.toml" <<TOML
[[deploy]]
lineage = "example.test-rsa"
targets = ["lb-demo0001/lbl-demo9443"]
TOML
export CLBCERT_CONFIG="$work/config.toml"
set -x
REQUESTS_CA_BUNDLE="$work/ca.pem" certbot certonly --manual --preferred-challenges dns \
  -d example.test -d '*.example.test' --key-type rsa --cert-name example.test-rsa \
  --manual-auth-hook 'clbcert-dns auth' --manual-cleanup-hook 'clbcert-dns cleanup' \
  --deploy-hook 'clbcert-deploy' \
  --server "https://127.0.0.1:$acme_port/dir" --non-interactive --agree-tos -m demo@example.test \
  --config-dir "$work/letsencrypt" --work-dir "$work/work" --logs-dir "$work/logs"
{ set +x; } 2>/dev/null
saved_rsa=$(openssl x509 -in "$work/letsencrypt/live/example.test-rsa/cert.pem" -noout -fingerprint -sha256)
echo "RSA clients:   $(member ECDHE-RSA-AES128-GCM-SHA256 -subject)"
echo "ECDSA clients: $(member ECDHE-ECDSA-AES128-GCM-SHA256 -subject)"
if [ "$(member ECDHE-RSA-AES128-GCM-SHA256 -fingerprint -sha256)" != "$saved_rsa" ] ||
  [ "$(member ECDHE-ECDSA-AES128-GCM-SHA256 -fingerprint -sha256)" != "$saved" ]; then
  echo "the dual listener does not serve each client its lineage's certificate" >&2
  exit 1
fi
echo "ECDSA clients get example.test's certificate, RSA clients example.test-rsa's: certbot renews both members"

step "requests through the listener reach its two backends, taken in turn (WRR)"
# The certificate was checked above; -k because pebble's root is not in the system's store.
for _ in 1 2 3 4; do
  curl -sSfk --retry 10 --retry-delay 1 --resolve www.example.test:8443:127.0.0.11 https://www.example.test:8443/
done

export CLBCERT_CERTBOT_DIR="$work/letsencrypt"
step "clbcert status: what expires when, and where it is served"
clbcert status

step "clbcert doctor: the simulated load balancer still allows TLS 1.0 and 1.1 (exit 1: a warning)"
clbcert doctor || echo "(exit $?)"

step "clbcert doctor --fix: apply the safe fix through clbcert tune, then examine again"
clbcert doctor --fix

echo
echo "Everything is in $work (certbot's config dir: $work/letsencrypt)."
