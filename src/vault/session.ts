import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import nodeVault from 'node-vault';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../observability/logger.ts';
import { ActiveNode } from './active-node.ts';
import { describeVaultError, vaultStatus } from './errors.ts';
import { traceVaultRequests } from './traced-requests.ts';

export type VaultClient = nodeVault.client;

export interface Readiness {
  ready: boolean;
  /**
   * Why not ready: vault_unreachable, vault_sealed, vault_uninitialized, vault_token_refused,
   * vault_no_active_node (a cluster between leaders), vault_login_failed (AppRole or Kubernetes
   * login has not succeeded yet).
   */
  reason?: string;
}

const RELOGIN_BACKOFF_MS = [250, 500, 1000, 2000, 5000];
/** With several addresses: how often the node Keygate talks to is checked to still be the active one. */
const LEADER_CHECK_MS = 5000;

/** No answer, or a 5xx: the node may be gone, sealed or between leaders; another may be active. */
function nodeFailure(err: unknown): boolean {
  const { status } = describeVaultError(err);
  return status === undefined || status >= 500;
}

/**
 * Keygate's own session with Vault: logs in (token, AppRole or Kubernetes), renews its token,
 * and logs in again when a renewal fails or Vault answers 403. node-vault's own
 * renewal stops at the first error, so it is not used.
 */
export class VaultSession extends EventEmitter {
  readonly client: VaultClient;
  readonly #config: Config['vault'];
  readonly #logger: Logger;
  #login: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #failures = 0;
  #loginTtl = 0;
  #loggedIn = false;
  #lastReadiness: { at: number; readiness: Readiness } | undefined;
  #closed = false;
  #requests = 0;
  /** Set with several addresses (`vault.addresses`): follows the cluster's active node. */
  readonly #nodes: ActiveNode | undefined;
  #leaderCheck: NodeJS.Timeout | undefined;

  constructor(config: Config['vault'], logger: Logger) {
    super();
    this.#config = config;
    this.#logger = logger;
    // node-vault drops a trailing slash from its endpoint; the node list must match it.
    const addresses = (config.addresses ?? [config.address]).map((a) => a.replace(/\/+$/, ''));
    const ca = config.caFile ? readFileSync(config.caFile) : undefined;
    const clientFor = (endpoint: string, timeout: number) =>
      nodeVault({
        apiVersion: 'v1',
        endpoint,
        ...(config.token ? { token: config.token } : {}),
        ...(config.namespace ? { namespace: config.namespace } : {}),
        requestOptions: { timeout, ...(ca ? { ca } : {}) },
      });
    this.client = clientFor(addresses[0] as string, config.timeoutMs);
    traceVaultRequests(this.client);
    if (addresses.length > 1) {
      this.#nodes = new ActiveNode({
        addresses,
        // sys/health needs no token, so a probe carries none.
        probe: (address) => {
          const probe = clientFor(address, Math.min(config.timeoutMs, 2000));
          probe.token = ''; // node-vault would otherwise fall back to VAULT_TOKEN
          return probe;
        },
        move: (address) => {
          this.client.endpoint = address;
        },
        logger,
      });
    }
  }

  /** How Keygate logs in: Kubernetes (vault.auth.kubernetes), AppRole, or a static token. */
  get authMethod(): 'token' | 'approle' | 'kubernetes' {
    if (this.#config.auth.kubernetes) return 'kubernetes';
    return this.#config.appRole ? 'approle' : 'token';
  }

  /** First login; when Vault is not there yet, keeps trying in the background. */
  async start(): Promise<void> {
    if (this.#nodes) {
      await this.#nodes.locate();
      this.#leaderCheck = setInterval(() => void this.#checkLeader(), LEADER_CHECK_MS);
      this.#leaderCheck.unref();
    }
    try {
      await this.relogin();
    } catch {
      this.#schedule(this.#backoff(), 'login');
    }
  }

  /** Logs in again (AppRole, Kubernetes) or re-checks the token; concurrent callers share one attempt. */
  relogin(): Promise<void> {
    this.#login ??= this.#doLogin().finally(() => {
      this.#login = undefined;
    });
    return this.#login;
  }

  /** Vault requests sent through call() so far (what Keygate costs Vault). */
  get requests(): number {
    return this.#requests;
  }

  /**
   * Runs a Vault call; on 403 logs in again once and retries it once. With several
   * addresses, a call that failed because its node went away (no answer, 5xx) is tried
   * once more when another node turns out to be active; backing off is the caller's.
   */
  async call<T>(op: (client: VaultClient) => Promise<T>): Promise<T> {
    return this.#onActive(async () => {
      this.#requests += 1;
      try {
        return await op(this.client);
      } catch (err) {
        if (vaultStatus(err) !== 403 || this.authMethod === 'token') throw err;
        await this.relogin();
        this.#requests += 1;
        return op(this.client);
      }
    });
  }

  async #onActive<T>(run: () => Promise<T>): Promise<T> {
    const endpoint = this.client.endpoint;
    try {
      return await run();
    } catch (err) {
      if (!this.#nodes || !nodeFailure(err) || !(await this.#nodes.failover(endpoint))) throw err;
      return run();
    }
  }

  async #checkLeader(): Promise<void> {
    const nodes = this.#nodes;
    if (!nodes || this.#closed) return;
    if ((await nodes.state(nodes.current)) !== 'active') await nodes.locate();
  }

  /** The last readiness() answer and when it came (ms since the epoch); undefined before the first. */
  get lastReadiness(): { at: number; readiness: Readiness } | undefined {
    return this.#lastReadiness;
  }

  /** Whether Keygate can use Vault now (what /readyz answers); costs one or two Vault requests. */
  async readiness(): Promise<Readiness> {
    const readiness = await this.#readiness();
    this.#lastReadiness = { at: Date.now(), readiness };
    return readiness;
  }

  async #readiness(): Promise<Readiness> {
    if (this.#nodes) return this.#clusterReadiness(this.#nodes);
    let health: { sealed?: boolean; initialized?: boolean };
    try {
      health = (await this.client.health({ standbyok: true, perfstandbyok: true })) as typeof health;
    } catch {
      return { ready: false, reason: 'vault_unreachable' };
    }
    if (health.initialized === false) return { ready: false, reason: 'vault_uninitialized' };
    if (health.sealed === true) return { ready: false, reason: 'vault_sealed' };
    return this.#tokenReadiness();
  }

  /** Ready when a node is active (a standby's answers may be stale) and takes Keygate's token. */
  async #clusterReadiness(nodes: ActiveNode): Promise<Readiness> {
    if ((await nodes.state(nodes.current)) !== 'active') {
      const { active, states } = await nodes.locate();
      if (active === undefined) {
        if (states.includes('standby')) return { ready: false, reason: 'vault_no_active_node' };
        if (states.includes('sealed')) return { ready: false, reason: 'vault_sealed' };
        if (states.includes('uninitialized')) return { ready: false, reason: 'vault_uninitialized' };
        return { ready: false, reason: 'vault_unreachable' };
      }
    }
    return this.#tokenReadiness();
  }

  async #tokenReadiness(): Promise<Readiness> {
    // No token yet: the login itself failed (its line says why); there is nothing to look up.
    if (this.authMethod !== 'token' && !this.#loggedIn) return { ready: false, reason: 'vault_login_failed' };
    try {
      await this.call((c) => c.tokenLookupSelf());
      return { ready: true };
    } catch (err) {
      const status = vaultStatus(err);
      if (status === 403 || status === 401) return { ready: false, reason: 'vault_token_refused' };
      if (status === 503) return { ready: false, reason: 'vault_sealed' };
      return { ready: false, reason: 'vault_unreachable' };
    }
  }

  close(): void {
    this.#closed = true;
    if (this.#leaderCheck) clearInterval(this.#leaderCheck);
    this.#leaderCheck = undefined;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #doLogin(): Promise<void> {
    const appRole = this.#config.appRole;
    const kubernetes = this.#config.auth.kubernetes;
    try {
      // Read at every login: the kubelet rotates a projected token (hourly by default).
      const jwt = kubernetes ? await readServiceAccountToken(kubernetes.tokenPath) : undefined;
      const self = (await this.#onActive(async () => {
        if (kubernetes) {
          await this.client.kubernetesLogin({ mount_point: kubernetes.mount, role: kubernetes.role, jwt });
        } else if (appRole) {
          await this.client.approleLogin({
            mount_point: appRole.mount,
            role_id: appRole.roleId,
            secret_id: appRole.secretId,
          });
        }
        return this.client.tokenLookupSelf();
      })) as { data?: { ttl?: number; renewable?: boolean } };
      this.#failures = 0;
      this.#loggedIn = true;
      const ttl = self.data?.ttl ?? 0;
      this.#loginTtl = ttl;
      this.#logger.info('vault login', { event: 'vault_login', method: this.authMethod, ttlSeconds: ttl });
      this.emit('login');
      this.#scheduleRenewal(ttl, self.data?.renewable === true);
    } catch (err) {
      this.#failures += 1;
      const failure = describeVaultError(err);
      this.#logger.warn('vault login failed', {
        event: 'vault_login_failed',
        method: this.authMethod,
        ...(err instanceof TokenFileError
          ? { serviceAccountFile: err.reason }
          : { status: failure.status, network: failure.network }),
      });
      throw err;
    }
  }

  #scheduleRenewal(ttlSeconds: number, renewable: boolean): void {
    if (ttlSeconds <= 0) return; // root and periodic-less tokens without expiry
    const dueMs = Math.max(500, Math.floor(ttlSeconds * 1000 * (2 / 3)));
    this.#schedule(dueMs, renewable ? 'renew' : 'login');
  }

  #schedule(delayMs: number, action: 'renew' | 'login'): void {
    if (this.#closed) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#run(action), delayMs);
    this.#timer.unref();
  }

  async #run(action: 'renew' | 'login'): Promise<void> {
    if (action === 'renew') {
      try {
        const renewed = (await this.#onActive(() => this.client.tokenRenewSelf({}))) as {
          auth?: { lease_duration?: number; renewable?: boolean };
        };
        const ttl = renewed.auth?.lease_duration ?? 0;
        this.#logger.debug('vault token renewed', { event: 'vault_token_renewed', ttlSeconds: ttl });
        // A TTL shorter than the one the login gave means the token is nearing its
        // max TTL: renewing again would not extend it, so log in again before it ends.
        const capped = this.authMethod !== 'token' && ttl < this.#loginTtl * 0.9;
        this.#scheduleRenewal(ttl, renewed.auth?.renewable === true && !capped);
        return;
      } catch (err) {
        this.#logger.warn('vault token renewal failed; logging in again', {
          event: 'vault_renew_failed',
          status: vaultStatus(err),
        });
      }
    }
    try {
      await this.relogin();
    } catch {
      this.#schedule(this.#backoff(), 'login');
    }
  }

  #backoff(): number {
    const base = RELOGIN_BACKOFF_MS[Math.min(this.#failures, RELOGIN_BACKOFF_MS.length - 1)] ?? 5000;
    return base / 2 + Math.random() * (base / 2);
  }
}

/** The service-account token file could not be read; `reason` is its error code, never its content. */
class TokenFileError extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super(`cannot read the service-account token file (${reason})`);
    this.reason = reason;
  }
}

async function readServiceAccountToken(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new TokenFileError((err as NodeJS.ErrnoException).code ?? 'error');
  }
  const jwt = text.trim();
  if (jwt === '') throw new TokenFileError('empty');
  return jwt;
}
