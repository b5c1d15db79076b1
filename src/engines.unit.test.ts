import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');

interface Manifest {
  name?: string;
  version?: string;
  engines?: { node?: string };
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Manifest;
const own = read(join(ROOT, 'package.json'));
const ours = own.engines?.node ?? '';

/** Where Node would find `name` from a package at `from`: the nearest node_modules up the tree. */
function resolvePackage(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir || dir === ROOT) return undefined;
  }
}

/** Every package a production install brings: the runtime dependencies, transitively. */
function runtimeClosure(): Map<string, Manifest> {
  const found = new Map<string, Manifest>();
  const visit = (dir: string, manifest: Manifest, optional: Set<string>) => {
    for (const name of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) {
      const at = resolvePackage(name, dir);
      if (at === undefined) {
        // An optional dependency for another platform is legitimately absent.
        if (optional.has(name)) continue;
        throw new Error(`${name} (needed by ${manifest.name ?? 'keygate'}) is not installed: run npm ci`);
      }
      if (found.has(at)) continue;
      const dep = read(join(at, 'package.json'));
      found.set(at, dep);
      visit(at, dep, new Set(Object.keys(dep.optionalDependencies ?? {})));
    }
  };
  visit(ROOT, own, new Set(Object.keys(own.optionalDependencies ?? {})));
  return found;
}

// Regression: engines.node said 22.18 while undici declared >=22.19.0. Every Node that
// package.json admits must be one each runtime dependency admits too.
describe('engines.node', () => {
  it('is a valid range', () => expect(semver.validRange(ours), `engines.node "${ours}"`).not.toBeNull());

  it("admits no Node that a runtime dependency's engines.node refuses", () => {
    const closure = runtimeClosure();
    expect(closure.size).toBeGreaterThan(Object.keys(own.dependencies ?? {}).length);
    const refused = [...closure.values()]
      .filter((dep) => dep.engines?.node && !semver.subset(ours, dep.engines.node))
      .map((dep) => `${dep.name}@${dep.version} wants node ${dep.engines?.node}`);
    expect(refused, `engines.node is "${ours}"`).toEqual([]);
  });

  it('is the floor bin/keygate.js, the bootstrap and the README name', () => {
    const floor = semver.minVersion(ours);
    expect(floor).not.toBeNull();
    const [major, minor] = [floor?.major, floor?.minor];
    const text = (file: string) => readFileSync(join(ROOT, file), 'utf8');
    expect(text('bin/keygate.js')).toContain(`const NEEDED = [${major}, ${minor}];`);
    expect(text('scripts/bootstrap.sh')).toContain(`a>${major}||(a===${major}&&b>=${minor})`);
    expect(text('README.md')).toContain(`**Node.js ${major}.${minor}+**`);
  });
});
