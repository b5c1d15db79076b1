# Least privilege for Keygate: its own Transit keys (keygate-<tenant>) and its own
# KV v2 prefix (secret/keygate/...), nothing else. If you change vault.prefix,
# vault.kvMount or vault.transitMount in Keygate's configuration, change them here.

# Credentials, Keygate keys, OAuth state and refresh leases.
path "secret/data/keygate/*" {
  capabilities = ["create", "read", "update", "delete"]
}
# Listing, custom_metadata (expiry, status) and permanent deletion of every version.
path "secret/metadata/keygate/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

# One Transit key per tenant: create on the first credential, read, rotate.
# No "delete": Keygate can never destroy a key (and so every ciphertext under it).
path "transit/keys/keygate-*" {
  capabilities = ["create", "read", "update"]
}
path "transit/encrypt/keygate-*" {
  capabilities = ["update"]
}
path "transit/decrypt/keygate-*" {
  capabilities = ["update"]
}
path "transit/rewrap/keygate-*" {
  capabilities = ["update"]
}

# Its own token (also in Vault's default policy; stated so this file stands alone).
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
path "auth/token/renew-self" {
  capabilities = ["update"]
}
