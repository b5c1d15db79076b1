import { connect } from 'node:net';
import { describe, expect, inject, it } from 'vitest';
import { startTestKeygate } from '../support/keygate.ts';

const vault = inject('vault');

describe('shutdown', () => {
  it('cuts connections still open after the grace period instead of waiting on them', async () => {
    const keygate = await startTestKeygate('server: { host: 127.0.0.1, port: 0, shutdownGraceMs: 200 }\n', {
      VAULT_ADDR: vault.address,
      VAULT_TOKEN: vault.token,
    });
    const { port } = new URL(keygate.url);
    // A client that connected and then said nothing, and a request that never finishes sending.
    const silent = connect(Number(port), '127.0.0.1');
    const slow = connect(Number(port), '127.0.0.1');
    // Being cut is the point; the reset is expected.
    for (const socket of [silent, slow]) socket.on('error', () => {});
    await Promise.all(
      [silent, slow].map((socket) => new Promise<void>((resolve) => socket.once('connect', () => resolve()))),
    );
    slow.write('POST /v1/keys HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{');
    const closed = Promise.all(
      [silent, slow].map((socket) => new Promise<void>((resolve) => socket.once('close', () => resolve()))),
    );
    const started = Date.now();
    await keygate.close();
    await closed;
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
