import type { Config } from '../config/schema.ts';
import { KeygateError } from '../errors.ts';
import { vaultCall, type RetryPolicy } from './call.ts';
import type { VaultClient, VaultSession } from './session.ts';

const KEY_MISSING = new KeygateError('vault_error', { message: 'The tenant key is missing in Vault.' });
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/**
 * One Transit key per tenant (`<prefix>-<tenant>`, aes256-gcm96, derived), created
 * explicitly on first use because upserts are disabled. Every operation passes a
 * derivation context (the integration, plus the account when not `default`: see
 * credentials/accounts.ts), so a ciphertext moved to another record does not decrypt.
 */
export class TransitKeys {
  readonly #vault: VaultSession;
  readonly #mount: string;
  readonly #prefix: string;
  readonly #policy: RetryPolicy;
  readonly #known = new Set<string>();

  constructor({ vault, config }: { vault: VaultSession; config: Readonly<Config> }) {
    this.#vault = vault;
    this.#mount = config.vault.transitMount;
    this.#prefix = config.vault.prefix;
    this.#policy = { budgetMs: config.vault.retryBudgetMs };
  }

  keyName(tenant: string): string {
    return `${this.#prefix}-${tenant}`;
  }

  /** Creates the tenant's key where absent (Transit key creation is idempotent). */
  async ensureKey(tenant: string): Promise<void> {
    const name = this.keyName(tenant);
    if (this.#known.has(name)) return;
    await this.#call((c) => c.write(`${this.#mount}/keys/${name}`, { type: 'aes256-gcm96', derived: true }));
    this.#known.add(name);
  }

  /**
   * Encrypts under the tenant's key, creating it first where this process has not seen it.
   * `context` is the key derivation context: a credential's transitContext (credentials/accounts.ts), or another secret's own.
   */
  async encrypt(tenant: string, context: string, plaintext: string): Promise<string> {
    await this.ensureKey(tenant);
    const encrypt = () =>
      this.#call<{ data: { ciphertext: string } }>(
        (c) =>
          c.write(`${this.#mount}/encrypt/${this.keyName(tenant)}`, {
            plaintext: b64(plaintext),
            context: b64(context),
          }),
        (status, message) => (status === 400 && /key not found/i.test(message) ? KEY_MISSING : undefined),
      );
    try {
      return (await encrypt()).data.ciphertext;
    } catch (err) {
      if (err !== KEY_MISSING) throw err;
      // Vault lost the key this process remembered (a restore, a new server): create it again.
      this.#known.delete(this.keyName(tenant));
      await this.ensureKey(tenant);
      return (await encrypt()).data.ciphertext;
    }
  }

  async decrypt(tenant: string, context: string, ciphertext: string): Promise<string> {
    const answer = await this.#call<{ data: { plaintext: string } }>(
      (c) => c.write(`${this.#mount}/decrypt/${this.keyName(tenant)}`, { ciphertext, context: b64(context) }),
      (status) => (status === 400 ? new KeygateError('credential_undecryptable') : undefined),
    );
    return Buffer.from(answer.data.plaintext, 'base64').toString('utf8');
  }

  /** Re-encrypts under the key's newest version without Keygate seeing the plaintext. */
  async rewrap(tenant: string, context: string, ciphertext: string): Promise<string> {
    const answer = await this.#call<{ data: { ciphertext: string } }>(
      (c) => c.write(`${this.#mount}/rewrap/${this.keyName(tenant)}`, { ciphertext, context: b64(context) }),
      (status) => (status === 400 ? new KeygateError('credential_undecryptable') : undefined),
    );
    return answer.data.ciphertext;
  }

  /** Adds a new key version; older versions still decrypt until records are rewrapped. */
  async rotate(tenant: string): Promise<number> {
    const name = this.keyName(tenant);
    await this.#call(
      (c) => c.write(`${this.#mount}/keys/${name}/rotate`, {}),
      (status, message) =>
        status === 400 && /key not found/.test(message)
          ? new KeygateError('tenant_not_found', {
              message: `Tenant ${tenant} has no Transit key (it never stored a credential); check the name.`,
            })
          : undefined,
    );
    const info = await this.#call<{ data: { latest_version: number } }>((c) =>
      c.read(`${this.#mount}/keys/${name}`),
    );
    return info.data.latest_version;
  }

  #call<T>(
    op: (client: VaultClient) => Promise<T>,
    mapStatus?: (status: number, message: string) => KeygateError | undefined,
  ): Promise<T> {
    return vaultCall(this.#vault, op, this.#policy, mapStatus);
  }
}
