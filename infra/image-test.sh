#!/usr/bin/env bash
# make image-test: build the real image from infra/Dockerfile with podman and start it as an
# operator would (read-only root, uid 10001, production settings) against this machine's
# PostgreSQL and Redis; check /readyz, a page, the QR decoder and a worker's /readyz; stop it
# with SIGTERM. Optional (not part of make test): it needs root, podman and a base image.
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
cleanup() { podman rm -f linli-it-gateway linli-it-worker >/dev/null 2>&1 || true; }
trap cleanup EXIT

step "migrating, then starting a gateway and a worker"
podman run "${RUN[@]}" --rm "${common[@]}" "$TAG" migrate
podman run "${RUN[@]}" -d "${common[@]}" --name linli-it-gateway -e LINLI_PORT="$PORT" "$TAG" gateway >/dev/null
podman run "${RUN[@]}" -d "${common[@]}" --name linli-it-worker -e LINLI_METRICS_PORT="$METRICS" \
  -e LINLI_HOST=127.0.0.1 "$TAG" worker activities >/dev/null

ready() { for _ in $(seq 1 60); do curl -fs "$1" >/dev/null && return 0; sleep 1; done; return 1; }
check() { printf '  %-28s %s\n' "$1" "$(curl -s -o /dev/null -w '%{http_code}' "$2")"; }
ready "http://127.0.0.1:$PORT/readyz" || { podman logs linli-it-gateway | tail -30; exit 1; }
ready "http://127.0.0.1:$METRICS/readyz" || { podman logs linli-it-worker | tail -30; exit 1; }
check "gateway /readyz" "http://127.0.0.1:$PORT/readyz"
check "residents' page /" "http://127.0.0.1:$PORT/"
check "scanner /scan" "http://127.0.0.1:$PORT/scan"
check "QR decoder /vendor/jsqr.js" "http://127.0.0.1:$PORT/vendor/jsqr.js"
check "worker /readyz" "http://127.0.0.1:$METRICS/readyz"
for url in "/readyz" "/" "/vendor/jsqr.js"; do curl -fs -o /dev/null "http://127.0.0.1:$PORT$url"; done
curl -fs -o /dev/null "http://127.0.0.1:$METRICS/readyz"

step "SIGTERM: both stop with exit 0"
for name in linli-it-gateway linli-it-worker; do
  t0=$(date +%s%N)
  podman kill --signal TERM "$name" >/dev/null
  code=$(podman wait "$name")
  echo "  $name exited $code in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
  [ "$code" = 0 ]
done
echo "image-test: ok"
