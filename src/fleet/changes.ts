/**
 * One small KV record, `changes`, that every replica polls to agree fast on what must
 * no longer be served from a cache: a Keygate key revoked, a credential deleted or
 * replaced. Each write is a new KV version (check-and-set), and each entry is tagged
 * with the version that added it, so a replica that last saw version L applies the
 * entries with v > L. Only the last `kept` entries stay; `completeAfter` says from which
 * version on the list is whole, so a replica that fell further behind knows it must drop
 * every cache instead.
 */
import type { CredentialRef } from '../credentials/ref.ts';

export type Change = { kind: 'key'; id: string } | ({ kind: 'credential' } & CredentialRef);

export type TaggedChange = Change & {
  /** The KV version of `changes` that added it. */
  v: number;
  /** The writer's process id (random per process life), so a replica skips its own. */
  by: string;
};

export interface ChangesRecord {
  entries: TaggedChange[];
  /** Every change with a version above this is in `entries`. */
  completeAfter: number;
}

/** The record after appending `added` as version `version` (the current one plus one). */
export function appendChanges(
  current: ChangesRecord | undefined,
  added: Change[],
  by: string,
  version: number,
  kept: number,
): ChangesRecord {
  const entries = [...(current?.entries ?? []), ...added.map((c) => ({ ...c, v: version, by }))];
  let completeAfter = current?.completeAfter ?? 0;
  if (entries.length > kept) {
    const dropped = entries.splice(0, entries.length - kept);
    completeAfter = Math.max(completeAfter, ...dropped.map((e) => e.v));
    // Entries of one version are kept or dropped together, so "complete after" stays true.
    while (entries.length > 0 && (entries[0] as TaggedChange).v <= completeAfter) entries.shift();
  }
  return { entries, completeAfter };
}

/**
 * What a replica that last saw version `seen` must do, given the record at `version`:
 * the others' changes since, or `everything` when it fell behind what the record keeps.
 */
export function changesSince(
  record: ChangesRecord | undefined,
  version: number,
  seen: number,
  self: string,
): { everything: true } | { everything: false; changes: TaggedChange[] } {
  if (version <= seen) return { everything: false, changes: [] };
  if (!record || seen < record.completeAfter) return { everything: true };
  return { everything: false, changes: record.entries.filter((e) => e.v > seen && e.by !== self) };
}

/**
 * What is written to KV: the entries as one JSON string. Vault/OpenBao refuse a request body
 * with too many JSON strings ("refused JSON input due to high complexity: exceeded maximum
 * number of strings", HTTP 400; OpenBao's listener `max_request_json_strings`), and as an
 * array each entry cost five or six strings: a few hundred changes made the record
 * unwritable. As one string the body holds three, whatever `fleet.changesKept` is.
 */
export function toStoredChanges(record: ChangesRecord): Record<string, unknown> {
  return { entries: JSON.stringify(record.entries), completeAfter: record.completeAfter };
}

function storedEntries(value: unknown): unknown[] {
  if (Array.isArray(value)) return value; // written by a Keygate from before toStoredChanges
  if (typeof value !== 'string') return [];
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}

/** Parses what KV holds, defensively: a record written by a newer Keygate may hold more. */
export function toChangesRecord(data: Record<string, unknown>): ChangesRecord {
  const entries = storedEntries(data['entries']) as TaggedChange[];
  const completeAfter = typeof data['completeAfter'] === 'number' ? data['completeAfter'] : 0;
  return {
    entries: entries.filter(
      (e) =>
        e &&
        typeof e.v === 'number' &&
        typeof e.by === 'string' &&
        (e.kind === 'key' || e.kind === 'credential'),
    ),
    completeAfter,
  };
}
