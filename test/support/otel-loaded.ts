// Run as a script (`node test/support/otel-loaded.ts`): starts Keygate with the YAML in
// KEYGATE_TEST_CONFIG, asks it for /readyz and /metrics, closes it, and prints as JSON every
// @opentelemetry module the process resolved. Module hooks see every import, static or dynamic.
import { registerHooks } from 'node:module';

const resolved = new Set<string>();
registerHooks({
  resolve(specifier, context, nextResolve) {
    const result = nextResolve(specifier, context);
    if (result.url.includes('/@opentelemetry/')) resolved.add(result.url.replace(/^.*\/node_modules\//, ''));
    return result;
  },
});

const { parseConfig } = await import('../../src/config/load.ts');
const { startKeygate } = await import('../../src/keygate.ts');
const { createLogger } = await import('../../src/observability/logger.ts');
const config = parseConfig(process.env['KEYGATE_TEST_CONFIG'] ?? '', process.env);
const keygate = await startKeygate(config, createLogger({ silent: true }));
for (const path of ['/readyz', '/metrics']) await (await fetch(`${keygate.url}${path}`)).text();
await keygate.close();
process.stdout.write(JSON.stringify([...resolved].sort()));
