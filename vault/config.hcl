# OpenBao / Vault server configuration for running Keygate against a real,
# persistent server (not the in-memory dev server that `npm run dev` starts).
#   bao server -config=vault/config.hcl        (or: vault server -config=...)
# Then initialise and unseal it once (bao operator init / unseal), log in with the
# root token and run vault/scripts/init-vault.sh.

ui            = false
disable_mlock = true # recommended with integrated storage (Raft)

storage "raft" {
  path    = "/openbao/data"
  node_id = "keygate-vault-1"
}

listener "tcp" {
  address     = "0.0.0.0:8200"
  tls_disable = true

  # Production: serve TLS and remove tls_disable above.
  # tls_cert_file = "/openbao/tls/server.crt"
  # tls_key_file  = "/openbao/tls/server.key"
  # tls_min_version = "tls12"
  # tls_client_ca_file = "/openbao/tls/ca.crt"   # only to require client certificates
}

api_addr     = "http://127.0.0.1:8200"
cluster_addr = "http://127.0.0.1:8201"
