import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const docs = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md'));
const examples = readdirSync(join(ROOT, 'examples'), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name);

/** Relative link targets of a Markdown file, without their #fragment. */
const links = (text: string) =>
  [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => (m[1] as string).split('#')[0] as string)
    .filter((target) => target !== '' && !/^[a-z]+:/.test(target));

describe('docs', () => {
  // Regression: the README's list left out mcp.md, proxy.md, refresh.md, scaling.md, onboarding.md.
  it("README's Docs section links every page in docs/", () => {
    const section = read('README.md').split('## Docs')[1] ?? '';
    const listed = new Set(links(section).map((l) => l.replace(/^docs\//, '')));
    expect(docs.filter((page) => !listed.has(page))).toEqual([]);
  });

  it('examples/README.md lists every example, and each has a README and a main.ts', () => {
    const listed = new Set(links(read('examples/README.md')).map((l) => l.replace(/\/$/, '')));
    expect(examples.filter((name) => !listed.has(name))).toEqual([]);
    for (const name of examples) {
      expect(existsSync(join(ROOT, 'examples', name, 'README.md')), name).toBe(true);
      expect(existsSync(join(ROOT, 'examples', name, 'main.ts')), name).toBe(true);
    }
  });

  // The newcomer's path: the README, the quick start and the examples. (docs/ as a whole links
  // pages that other work in flight is adding, e.g. proxy.md → identity.md.)
  it('every relative link in the README, the quick start and examples/ leads to a file', () => {
    const pages = [
      'README.md',
      'docs/quickstart.md',
      'examples/README.md',
      ...examples.map((e) => `examples/${e}/README.md`),
    ];
    const broken = pages.flatMap((page) =>
      links(read(page))
        .filter((target) => !existsSync(resolve(ROOT, dirname(page), target)))
        .map((target) => `${page} → ${target}`),
    );
    expect(broken).toEqual([]);
  });
});
