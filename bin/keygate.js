#!/usr/bin/env node
// Runs the TypeScript sources in a checkout (Node >= 22.18 strips types), else the
// compiled dist/ the package ships (Node strips no types inside node_modules). Plain
// JavaScript that old Node versions parse, so the version check below is what they
// see, not a stack trace.
const NEEDED = [22, 18];
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < NEEDED[0] || (major === NEEDED[0] && minor < NEEDED[1])) {
  process.stderr.write(
    `keygate: needs Node.js ${NEEDED.join('.')} or newer (this is ${process.version}); see https://nodejs.org\n`,
  );
  process.exit(2);
}

const { existsSync } = await import('node:fs');
// A checkout prefers its sources, so a stale dist/ from an old build is never run.
const source = new URL('../src/cli/main.ts', import.meta.url);
const { main } = await import(
  existsSync(source) ? source.href : new URL('../dist/cli/main.js', import.meta.url).href
);
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`keygate: ${err?.message ?? err}`);
    process.exit(1);
  },
);
