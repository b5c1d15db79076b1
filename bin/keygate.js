#!/usr/bin/env node
// Runs the TypeScript sources directly (Node >= 22.18 strips types), or the
// compiled build where `npm run build` made one.
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/main.js', import.meta.url);
const { main } = await import(
  existsSync(built) ? built.href : new URL('../src/cli/main.ts', import.meta.url).href
);
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`keygate: ${err?.message ?? err}`);
    process.exit(1);
  },
);
