#!/usr/bin/env bash
# Runs the benchmarks behind docs/BENCHMARKS.md and prints their figures:
# clbcert-dns auth/cleanup as processes against the simulated Tencent Cloud,
# then whole certbot issuances (certbot + pebble + tcsim, 2 s propagation
# delay) for 2 and 10 names, then the fixed-sleep baseline, which takes
# about 2.5 minutes on its own (CLBCERT_BENCH_SLOW=0 skips it), then one
# certificate deployed onto 1,000 CLB targets at the documented rate limits,
# in process and as the clbcert-deploy binary (about a minute each).
# Installs certbot, pebble and GNU time first if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh

# GNU time measures the hooks' and clbcert-deploy's peak RSS; os/exec's
# rusage cannot (see BenchmarkHookProcess).
if [ ! -x /usr/bin/time ]; then
  echo "installing time with apt-get" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq time >/dev/null
fi

# The figures mean little on a busy machine: say how busy it was.
echo "# $(nproc) CPUs; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
bench() {
  CLBCERT_REQUIRE_E2E=1 go test -run '^$' -count 1 -timeout 30m "$@" ./scripts/e2e
}
bench -bench 'HookProcess' -benchtime 200x
bench -bench 'Issuance/.*/delay' -benchtime 3x
if [ "${CLBCERT_BENCH_SLOW:-1}" = 1 ]; then
  CLBCERT_BENCH_SLOW=1 bench -bench 'Issuance/.*/sleep' -benchtime 1x
else
  echo "# skipped the fixed-sleep baseline (CLBCERT_BENCH_SLOW=0)"
fi
# Deploy at scale: pkg/deploy's own benchmark, not an e2e one (no certbot).
go test -run '^$' -count 1 -timeout 30m -bench 'Deploy1000' -benchtime 1x ./pkg/deploy
# clbcert-watch: from the end of certbot's swap to the deploy starting, and
# 60 s idle with 50 lineages (CPU and peak RSS of the watcher process).
go test -run '^$' -count 1 -bench 'SwapToDeploy' -benchtime 10x ./pkg/watch
bench -bench 'WatchIdle' -benchtime 1x
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
