import { CliError } from './output.ts';

interface Input extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?: (mode: boolean) => unknown;
}

/**
 * Reads a secret from standard input: piped in (`... | keygate credentials put`), or,
 * on a terminal, typed at a prompt with echo off. Never from argv, which `ps` shows
 * to every user of the machine. One trailing newline is dropped.
 */
export async function readSecret(
  prompt: string,
  input: Input = process.stdin,
  output: NodeJS.WritableStream = process.stderr,
): Promise<string> {
  const value =
    input.isTTY && input.setRawMode ? await promptHidden(prompt, input, output) : await readAll(input);
  const secret = value.replace(/\r?\n$/, '');
  if (secret.trim() === '') {
    throw new CliError('no secret given: pipe it to standard input, or type it at the prompt', 2);
  }
  return secret;
}

async function readAll(input: Input): Promise<string> {
  let text = '';
  for await (const chunk of input)
    text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
  return text;
}

function promptHidden(prompt: string, input: Input, output: NodeJS.WritableStream): Promise<string> {
  output.write(prompt);
  const setRaw = input.setRawMode as (mode: boolean) => unknown;
  setRaw.call(input, true);
  input.resume();
  let value = '';
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      input.removeListener('data', onData);
      setRaw.call(input, false);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const char of chunk.toString()) {
        if (char === '\r' || char === '\n') return done();
        if (char === '\u0003' || char === '\u0004') return done(new CliError('cancelled', 1));
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else value += char;
      }
    };
    input.on('data', onData);
  });
}
