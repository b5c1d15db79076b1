// `npm run example NAME [-- ARGS]`: runs examples/NAME/main.ts, with this checkout's Node and
// packages, against the Keygate of `npm run dev` (KEYGATE_URL, KEYGATE_ADMIN_TOKEN). Exits
// as the example does.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const dir = resolve(import.meta.dirname, '../examples');
const examples = readdirSync(dir, { withFileTypes: true })
  .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'main.ts')))
  .map((e) => e.name)
  .sort();
const [name, ...args] = process.argv.slice(2);

if (!name || !examples.includes(name)) {
  console.error(
    `${name ? `example: no example "${name}"` : 'example: which one?'}; run \`npm run example NAME\` with one of: ${examples.join(', ')} (examples/README.md says what each does)`,
  );
  process.exit(2);
}
if (!process.env['KEYGATE_ADMIN_TOKEN']) {
  console.error(
    'example: set KEYGATE_URL and KEYGATE_ADMIN_TOKEN to what `npm run dev` printed (its "export KEYGATE_URL=... KEYGATE_ADMIN_TOKEN=..." line), then run this again',
  );
  process.exit(2);
}
const child = spawn(process.execPath, [join(dir, name, 'main.ts'), ...args], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
