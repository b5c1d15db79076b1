import type nodeVault from 'node-vault';
import type { Logger } from '../observability/logger.ts';

export type NodeState = 'active' | 'standby' | 'sealed' | 'uninitialized' | 'unreachable';

export interface Located {
  /** The active node's address, or undefined when no node is active (an election, a sealed cluster). */
  active: string | undefined;
  /** Each address's state, in the configured order. */
  states: NodeState[];
}

// Probing every node costs one request per node; failures arriving together share one
// probe, and failures after it reuse its finding for this long.
const MIN_PROBE_INTERVAL_MS = 250;

/**
 * Which of a Vault cluster's nodes Keygate talks to: the active one. OpenBao 2.x
 * standbys answer reads from their own, eventually consistent copy (and writes by
 * forwarding or a 307 to the active node), while Keygate's check-and-set writes and
 * refresh-token reads need read-after-write consistency; so Keygate never settles on
 * a standby. On a failure it probes every node's unauthenticated `sys/health` and
 * moves to the active one; during an election there is none and calls fail as
 * unavailable until a new leader is up.
 */
export class ActiveNode {
  readonly #addresses: readonly string[];
  readonly #probes: nodeVault.client[];
  readonly #logger: Logger;
  readonly #move: (address: string) => void;
  #current: string;
  #locating: Promise<Located> | undefined;
  #lastProbe: { at: number; found: Located } | undefined;

  constructor(options: {
    addresses: readonly string[];
    /** A client for unauthenticated probes of one address (same TLS settings). */
    probe: (address: string) => nodeVault.client;
    /** Points Keygate's Vault client at another address. */
    move: (address: string) => void;
    logger: Logger;
  }) {
    this.#addresses = options.addresses;
    this.#current = options.addresses[0] as string;
    this.#probes = options.addresses.map((a) => options.probe(a));
    this.#move = options.move;
    this.#logger = options.logger;
  }

  get current(): string {
    return this.#current;
  }

  get addresses(): readonly string[] {
    return this.#addresses;
  }

  /** The state of one address, from its `sys/health` body (node-vault returns it for every status). */
  async state(address: string): Promise<NodeState> {
    const probe = this.#probes[this.#addresses.indexOf(address)];
    if (!probe) return 'unreachable';
    try {
      const health = (await probe.health({})) as {
        initialized?: boolean;
        sealed?: boolean;
        standby?: boolean;
        performance_standby?: boolean;
      };
      if (health.initialized === false) return 'uninitialized';
      if (health.sealed === true) return 'sealed';
      if (health.standby === true || health.performance_standby === true) return 'standby';
      return 'active';
    } catch {
      return 'unreachable';
    }
  }

  /** Probes every node and moves to the active one, if any. Concurrent callers share one probe. */
  locate(): Promise<Located> {
    this.#locating ??= this.#probeAll().finally(() => {
      this.#locating = undefined;
    });
    return this.#locating;
  }

  /**
   * After a call to `failed` did not get through: whether to try again, because Keygate
   * now points at another (active) node. False when no node is active (the caller backs
   * off) or the failed one still is (its answer was its own, not a node going away).
   */
  async failover(failed: string): Promise<boolean> {
    if (this.#current !== failed) return true; // another call has moved on already
    const recent = this.#lastProbe;
    const found =
      recent && Date.now() - recent.at < MIN_PROBE_INTERVAL_MS ? recent.found : await this.locate();
    return found.active !== undefined && found.active !== failed;
  }

  async #probeAll(): Promise<Located> {
    const states = await Promise.all(this.#addresses.map((a) => this.state(a)));
    const index = states.indexOf('active');
    const active = index >= 0 ? this.#addresses[index] : undefined;
    // Logged once per outage, not once per probe.
    const hadActive = this.#lastProbe === undefined || this.#lastProbe.found.active !== undefined;
    if (active !== undefined && active !== this.#current) {
      this.#logger.warn('vault active node changed', {
        event: 'vault_failover',
        from: this.#current,
        to: active,
      });
      this.#current = active;
      this.#move(active);
    } else if (active === undefined && hadActive) {
      this.#logger.warn('no active vault node', { event: 'vault_no_active_node', states });
    }
    const found = { active, states };
    this.#lastProbe = { at: Date.now(), found };
    return found;
  }
}
