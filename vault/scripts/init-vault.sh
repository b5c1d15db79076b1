#!/usr/bin/env bash
# Prepares a Vault (or OpenBao) server for Keygate. Idempotent.
#   VAULT_ADDR=... VAULT_TOKEN=<an admin token> vault/scripts/init-vault.sh
# - enables Transit at transit/ and KV v2 at secret/ where absent
# - sets transit/config/keys disable_upsert=true (a typo can't create a key)
# - writes the policy vault/policies/keygate.hcl as "keygate"
# - enables AppRole and creates the role "keygate" with that policy
# - prints VAULT_ROLE_ID=... and VAULT_SECRET_ID=... (a new secret id each run)
# With KUBERNETES_HOST (the API server Vault asks to review tokens, e.g.
# https://kubernetes.default.svc:443), also Vault's Kubernetes auth method:
# - enables it at auth/$KEYGATE_K8S_MOUNT (default kubernetes) where absent
# - configures it: KUBERNETES_CA_CERT names the API server's CA file (needed when Vault runs
#   outside the cluster; inside it, Vault reads its own pod's CA and token); TOKEN_REVIEWER_JWT
#   names a file with a reviewer token (else each login's own token reviews itself, which
#   needs the system:auth-delegator binding of deploy/kubernetes/)
# - creates the role "keygate" (KEYGATE_K8S_ROLE) with the policy, bound to the service
#   account keygate (KEYGATE_K8S_SERVICE_ACCOUNT) in the namespace keygate (KEYGATE_K8S_NAMESPACE),
#   and to the token audience KEYGATE_K8S_AUDIENCE (default vault, as deploy/kubernetes/ projects it)
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

if [ -n "${KUBERNETES_HOST:-}" ]; then
  k8s_mount="${KEYGATE_K8S_MOUNT:-kubernetes}"
  has_k8s() { grep -q "\"$k8s_mount/\"" <<<"$("$cli" auth list -format=json)"; }
  if ! has_k8s; then
    "$cli" auth enable -path="$k8s_mount" kubernetes >/dev/null 2>&1 || has_k8s
  fi
  k8s_config=(kubernetes_host="$KUBERNETES_HOST")
  if [ -n "${KUBERNETES_CA_CERT:-}" ]; then
    k8s_config+=(kubernetes_ca_cert=@"$KUBERNETES_CA_CERT" disable_local_ca_jwt=true)
  fi
  if [ -n "${TOKEN_REVIEWER_JWT:-}" ]; then
    k8s_config+=(token_reviewer_jwt=@"$TOKEN_REVIEWER_JWT")
  fi
  "$cli" write "auth/$k8s_mount/config" "${k8s_config[@]}" >/dev/null
  "$cli" write "auth/$k8s_mount/role/${KEYGATE_K8S_ROLE:-keygate}" \
    bound_service_account_names="${KEYGATE_K8S_SERVICE_ACCOUNT:-keygate}" \
    bound_service_account_namespaces="${KEYGATE_K8S_NAMESPACE:-keygate}" \
    audience="${KEYGATE_K8S_AUDIENCE:-vault}" \
    token_policies=keygate token_ttl=1h token_max_ttl=24h token_type=service >/dev/null
fi

echo "VAULT_ROLE_ID=$("$cli" read -field=role_id "auth/approle/role/$role/role-id")"
echo "VAULT_SECRET_ID=$("$cli" write -f -field=secret_id "auth/approle/role/$role/secret-id")"
