import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.ts';
import { EventBus } from './bus.ts';
import type { KeygateEvent } from './catalogue.ts';
import { EventLog } from './event-log.ts';

const logger = createLogger({ silent: true });
const at = Date.parse('2026-12-01T12:00:00.000Z');

describe('EventBus', () => {
  it('stamps replica, time and account, and keeps only the catalogued fields', () => {
    const bus = new EventBus({ replica: 'r1', logger, now: () => at });
    const seen: KeygateEvent[] = [];
    bus.subscribe((e) => seen.push(e));
    const input = { tenant: 'acme', integration: 'crm', revocation: 'revoked', accessToken: 'tok' } as const;
    bus.publish('credential-deleted', input);
    bus.publish('key-created', { keyId: 'abc', tenants: ['*'], name: undefined });
    expect(seen.map((e) => [e.type, e.data])).toEqual([
      [
        'credential-deleted',
        {
          replica: 'r1',
          time: '2026-12-01T12:00:00.000Z',
          tenant: 'acme',
          integration: 'crm',
          account: 'default',
          revocation: 'revoked',
        },
      ],
      ['key-created', { replica: 'r1', time: '2026-12-01T12:00:00.000Z', keyId: 'abc', tenants: ['*'] }],
    ]);
    expect(seen[0]?.id).toBe(`${bus.boot}-1`);
    expect(seen[1]?.id).toBe(`${bus.boot}-2`);
  });

  it('keeps a given time and account, and masks secret-shaped values', () => {
    const bus = new EventBus({ replica: 'r1', logger });
    const event = bus.publish('needs-reauth', {
      tenant: 'acme',
      integration: 'crm',
      account: 'work',
      time: '2026-01-01T00:00:00.000Z',
      reason: 'refresh_failed',
      error: 'Bearer abc.def',
    });
    expect(event.data).toMatchObject({ account: 'work', time: '2026-01-01T00:00:00.000Z' });
    expect(JSON.stringify(event)).not.toContain('abc.def');
  });

  it('a throwing listener neither fails the publisher nor starves the others', () => {
    const bus = new EventBus({ replica: 'r1', logger });
    const seen: string[] = [];
    bus.subscribe(() => {
      throw new Error('boom');
    });
    bus.subscribe((e) => seen.push(e.type));
    expect(() => bus.publish('key-revoked', { keyId: 'k' })).not.toThrow();
    expect(seen).toEqual(['key-revoked']);
  });
});

describe('EventLog', () => {
  it('resumes after a Last-Event-ID and reports a gap when the ring has moved on', () => {
    const bus = new EventBus({ replica: 'r1', logger });
    const log = new EventLog({ size: 3, bus });
    const ids = [1, 2, 3, 4, 5].map((n) => bus.publish('key-revoked', { keyId: `k${n}` }).id);
    expect(log.since(ids[3]).events.map((e) => e.id)).toEqual([ids[4]]);
    expect(log.since(ids[1]).gap).toBe(false);
    const late = log.since(ids[0]);
    expect(late.gap).toBe(true);
    expect(late.events.map((e) => e.id)).toEqual(ids.slice(2));
    expect(log.since('ffff-1')).toMatchObject({ gap: true, events: late.events });
    expect(log.since(undefined)).toEqual({ events: [], gap: false });
  });
});
