import { isKeygateError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { KvStore } from '../vault/kv.ts';

const PATH = 'replicas';
const CAS_TRIES = 10;
/** A replica not heard from for this many heartbeats is taken for gone. */
export const MISSED_HEARTBEATS = 3;
/** Entries older than this many heartbeats are dropped from the record by whoever writes it. */
const FORGET_AFTER = 20;

export interface FleetMembersDeps {
  kv: Pick<KvStore, 'read' | 'write'>;
  logger: Logger;
  /** This replica's name among members: unique per process life. */
  self: string;
  intervalMs: number;
  /** The live members changed (one came or went). */
  onChange?: () => void;
  now?: () => number;
}

/**
 * The live replicas, for sharding due refreshes: one small KV record, `replicas`, mapping each
 * member to when it last announced itself. Every `intervalMs` a replica reads it and writes
 * itself in with check-and-set (one read and one write per heartbeat); what it read tells it
 * who else is there. A member unheard of for MISSED_HEARTBEATS intervals is gone. Vault down:
 * the others age out of what this replica knows, so it ends up owning every credential
 * (the refresh lease still fences), which is what it did before sharding.
 */
export class FleetMembers {
  readonly #deps: FleetMembersDeps;
  readonly #now: () => number;
  #seen = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #failing = false;
  #lastLive = '';
  /** Reads, writes and check-and-set conflicts of the record, for the Vault cost figures. */
  readonly counts = { reads: 0, writes: 0, conflicts: 0 };

  constructor(deps: FleetMembersDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  get self(): string {
    return this.#deps.self;
  }

  /** The members heard from lately, this one always among them, sorted. */
  live(): string[] {
    const since = this.#now() - MISSED_HEARTBEATS * this.#deps.intervalMs;
    const live = [...this.#seen].filter(([id, at]) => id !== this.self && at >= since).map(([id]) => id);
    return [...live, this.self].sort();
  }

  start(): void {
    void this.#beat();
  }

  /** Stops the heartbeat and leaves the record, so the others take over this one's share at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#update(false).catch(() => undefined);
  }

  async #beat(): Promise<void> {
    if (this.#stopped) return;
    try {
      await this.#update(true);
      if (this.#failing)
        this.#deps.logger.info('fleet heartbeat written again', { event: 'fleet_heartbeat_recovered' });
      this.#failing = false;
    } catch (err) {
      if (!this.#failing) {
        this.#deps.logger.warn(
          'cannot write the fleet heartbeat; other replicas will take over this one’s refreshes',
          {
            event: 'fleet_heartbeat_failed',
            errorCode: isKeygateError(err) ? err.code : 'unknown',
          },
        );
      }
      this.#failing = true;
    }
    if (this.#stopped) return;
    const live = this.live().join('\n');
    if (live !== this.#lastLive) {
      this.#lastLive = live;
      this.#deps.onChange?.();
    }
    this.#timer = setTimeout(() => void this.#beat(), this.#deps.intervalMs);
    this.#timer.unref();
  }

  // Read, put this member in (or take it out), write with check-and-set; a lost race reads again.
  async #update(present: boolean): Promise<void> {
    const { kv, intervalMs } = this.#deps;
    for (let attempt = 0; attempt < CAS_TRIES; attempt += 1) {
      this.counts.reads += 1;
      const current = await kv.read(PATH);
      const members = toMembers(current?.data['members']);
      this.#seen = new Map(Object.entries(members));
      const now = this.#now();
      const next: Record<string, number> = {};
      for (const [id, at] of Object.entries(members)) {
        if (id !== this.self && at >= now - FORGET_AFTER * intervalMs) next[id] = at;
      }
      if (present) next[this.self] = now;
      try {
        this.counts.writes += 1;
        await kv.write(PATH, { members: next }, { cas: current?.version ?? 0 });
        return;
      } catch (err) {
        if (!isKeygateError(err, 'conflict')) throw err;
        this.counts.conflicts += 1;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 50 * (attempt + 1)));
      }
    }
  }
}

function toMembers(value: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (!value || typeof value !== 'object') return out;
  for (const [id, at] of Object.entries(value)) if (typeof at === 'number') out[id] = at;
  return out;
}
