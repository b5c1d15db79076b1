import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isKeygateError } from '../../src/errors.ts';
import { appendChanges, toChangesRecord, toStoredChanges, type Change } from '../../src/fleet/changes.ts';
import { makeStore, uniqueTenant, type TestStore } from '../support/store.ts';

// A burst of stores (a bench seeding due credentials, an import) fills the changes record
// to `fleet.changesKept` entries. OpenBao refuses a JSON body with too many strings, and
// the record as an array of entries crossed that limit after a few hundred changes: every
// replica then failed to record any change, so the fleet stopped agreeing.
const vault = inject('vault');
const KEPT = 500; // the default fleet.changesKept

describe('the fleet changes record at its full size', () => {
  let t: TestStore;
  const prefix = `kgchanges-${Math.random().toString(36).slice(2, 8)}`;
  const tenant = uniqueTenant('changes');
  const burst: Change[] = Array.from({ length: KEPT }, (_, i) => ({
    kind: 'credential',
    tenant,
    integration: `integration-${i}`,
    account: 'default',
  }));
  const full = appendChanges(undefined, burst, 'writer-0123456789abcdef', 1, KEPT);

  beforeAll(async () => {
    t = await makeStore(vault, `vault: { prefix: ${prefix} }`);
  });
  afterAll(() => t?.close());

  it('is refused by OpenBao in the old shape (an array of entries): the limit this guards against', async () => {
    const refused = await t.kv
      .write('fleet/changes-old-shape', { ...full }, { cas: 0 })
      .catch((e: unknown) => e);
    expect(isKeygateError(refused, 'vault_error')).toBe(true);
    expect(JSON.stringify((refused as { cause?: unknown }).cause)).toMatch(/maximum number of strings/);
  });

  it('is written and read back whole as stored now', async () => {
    await t.kv.write('fleet/changes-now', toStoredChanges(full), { cas: 0 });
    const read = await t.kv.read('fleet/changes-now');
    expect(read?.version).toBe(1);
    const back = toChangesRecord(read?.data ?? {});
    expect(back.entries).toHaveLength(KEPT);
    expect(back).toEqual(full);
  });

  it('still reads a record written in the old shape (an upgrade mid-fleet)', () => {
    expect(toChangesRecord({ ...full })).toEqual(full);
    expect(toChangesRecord({ entries: 'not json', completeAfter: 3 })).toEqual({
      entries: [],
      completeAfter: 3,
    });
  });
});
