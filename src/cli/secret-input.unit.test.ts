import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CliError } from './output.ts';
import { readSecret } from './secret-input.ts';

// A terminal: raw mode switched on while the secret is typed, and off again after.
function terminal() {
  const input = Object.assign(new PassThrough(), { isTTY: true, modes: [] as boolean[] });
  const setRawMode = (mode: boolean) => input.modes.push(mode);
  const output = new PassThrough();
  let shown = '';
  output.on('data', (c: Buffer) => (shown += c.toString()));
  return { input: Object.assign(input, { setRawMode }), output, shown: () => shown };
}

describe('readSecret', () => {
  it('reads a piped secret, dropping one trailing newline', async () => {
    const input = new PassThrough();
    input.end('sk-piped-secret\n');
    expect(await readSecret('unused: ', input, new PassThrough())).toBe('sk-piped-secret');
  });

  it('prompts on a terminal with echo off: the secret is never written back', async () => {
    const t = terminal();
    const read = readSecret('Secret (input hidden): ', t.input, t.output);
    t.input.write('sk-typ');
    t.input.write('ed-secretX\u007f\r');
    expect(await read).toBe('sk-typed-secret');
    expect(t.shown()).toBe('Secret (input hidden): \n');
    expect(t.input.modes).toEqual([true, false]);
  });

  it('refuses an empty secret and stops on Ctrl-C', async () => {
    const empty = new PassThrough();
    empty.end('\n');
    await expect(readSecret('', empty, new PassThrough())).rejects.toBeInstanceOf(CliError);
    const t = terminal();
    const read = readSecret('Secret: ', t.input, t.output);
    t.input.write('abc\u0003');
    await expect(read).rejects.toThrow('cancelled');
    expect(t.input.modes).toEqual([true, false]);
  });
});
