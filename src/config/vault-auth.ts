import { Type } from '@sinclair/typebox';

const Strict = { additionalProperties: false } as const;

/** Where Kubernetes projects a pod's service-account token by default. */
export const DEFAULT_KUBERNETES_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * `vault.auth`: login methods besides `vault.token` and `vault.appRole`. `kubernetes` logs in
 * with the pod's projected service-account token, read from `tokenPath` at every login (the
 * kubelet rotates it), to Vault's Kubernetes auth method mounted at `mount`.
 */
export const VaultAuthSchema = Type.Object(
  {
    kubernetes: Type.Optional(
      Type.Object(
        {
          role: Type.String({ minLength: 1 }),
          tokenPath: Type.String({ minLength: 1, default: DEFAULT_KUBERNETES_TOKEN_PATH }),
          mount: Type.String({ pattern: '^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$', default: 'kubernetes' }),
        },
        Strict,
      ),
    ),
  },
  { ...Strict, default: {} },
);
