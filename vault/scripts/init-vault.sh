#!/usr/bin/env bash
# Prepares a Vault (or OpenBao) server for Keygate. Idempotent.
#   VAULT_ADDR=... VAULT_TOKEN=<an admin token> vault/scripts/init-vault.sh
# - enables Transit at transit/ and KV v2 at secret/ where absent
# - sets transit/config/keys disable_upsert=true (a typo can't create a key)
# - writes the policy vault/policies/keygate.hcl as "keygate"
# - enables AppRole and creates the role "keygate" with that policy
# - prints VAULT_ROLE_ID=... and VAULT_SECRET_ID=... (a new secret id each run)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cli="$(command -v bao || command -v vault || true)"
[ -n "$cli" ] || { echo "init-vault: neither bao nor vault is on PATH" >&2; exit 1; }
: "${VAULT_ADDR:?set VAULT_ADDR}"
: "${VAULT_TOKEN:?set VAULT_TOKEN to an admin token}"
export VAULT_ADDR VAULT_TOKEN BAO_ADDR="$VAULT_ADDR" BAO_TOKEN="$VAULT_TOKEN"
role="${KEYGATE_APPROLE:-keygate}"

mounts="$("$cli" secrets list -format=json)"
# Never `bao ... | grep -q` under pipefail: grep exits at its first match, a later write
# by bao then dies of SIGPIPE and the pipeline fails though the match was found.
mounted() { grep -q "\"$1/\"" <<<"$("$cli" secrets list -format=json)"; }
if ! grep -q '"transit/"' <<<"$mounts"; then
  "$cli" secrets enable -path=transit transit >/dev/null 2>&1 || mounted transit
fi
if ! grep -q '"secret/"' <<<"$mounts"; then
  "$cli" secrets enable -path=secret -version=2 kv >/dev/null 2>&1 || mounted secret
fi
"$cli" write transit/config/keys disable_upsert=true >/dev/null
"$cli" policy write keygate "$here/../policies/keygate.hcl" >/dev/null

has_approle() { grep -q '"approle/"' <<<"$("$cli" auth list -format=json)"; }
# Another process may enable it at the same moment: losing that race is fine.
if ! has_approle; then
  "$cli" auth enable approle >/dev/null 2>&1 || has_approle
fi
"$cli" write "auth/approle/role/$role" \
  token_policies=keygate token_ttl=1h token_max_ttl=24h \
  secret_id_ttl=0 token_type=service >/dev/null

echo "VAULT_ROLE_ID=$("$cli" read -field=role_id "auth/approle/role/$role/role-id")"
echo "VAULT_SECRET_ID=$("$cli" write -f -field=secret_id "auth/approle/role/$role/secret-id")"
