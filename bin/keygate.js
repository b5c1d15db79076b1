#!/usr/bin/env node
// Runs the TypeScript sources in a checkout (Node >= 22.19 strips types), else the
// compiled dist/ the package ships (Node strips no types inside node_modules). Plain
// JavaScript that old Node versions parse, so what they see is the version check below,
// not a stack trace.
const NEEDED = [22, 19];
const [major, minor] = process.versions.node.split('.').map(Number);
const tooOld = major < NEEDED[0] || (major === NEEDED[0] && minor < NEEDED[1]);

if (tooOld) {
  // In a checkout, `npx keygate` works wherever `npm run dev` does: the bootstrap brings
  // Node 24 into .tools/ (installing it the first time) and runs this file again with it.
  const { existsSync } = await import('node:fs');
  const { fileURLToPath } = await import('node:url');
  const bootstrap = fileURLToPath(new URL('../scripts/bootstrap.sh', import.meta.url));
  if (existsSync(bootstrap) && !process.env.KEYGATE_REEXEC) {
    const { spawn } = await import('node:child_process');
    const child = spawn(
      'bash',
      [bootstrap, 'node', fileURLToPath(import.meta.url), ...process.argv.slice(2)],
      { stdio: 'inherit', env: { ...process.env, KEYGATE_REEXEC: '1' } },
    );
    // Ctrl-C reaches both processes (one process group); a signal sent to this one alone
    // is passed on. Either way this process waits for the child and exits as it did.
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
      process.on(signal, () => child.kill(signal));
    }
    child.on('error', (err) => {
      process.stderr.write(`keygate: cannot run scripts/bootstrap.sh (${err.message})\n`);
      process.exit(2);
    });
    child.on('exit', (code, signal) => {
      if (signal) {
        process.removeAllListeners(signal);
        process.kill(process.pid, signal);
      } else process.exit(code ?? 1);
    });
  } else {
    process.stderr.write(
      `keygate: needs Node.js ${NEEDED.join('.')} or newer (this is ${process.version}); see https://nodejs.org\n`,
    );
    process.exit(2);
  }
} else {
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
}
