import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// Keeps the code in step with the drawing in docs/architecture.md (## Layers): a runtime
// import may only go to the module's own folder or to a folder drawn on a lower line, and
// the files of one folder import each other without a cycle, type-only imports included.

const SRC = resolve(import.meta.dirname);
const DOC = readFileSync(join(SRC, '../docs/architecture.md'), 'utf8');

/** Folder (or top-level file) → its line in the drawing, 0 at the top. */
function drawing(): Map<string, number> {
  const block = /```layers\n([\s\S]*?)```/.exec(DOC)?.[1];
  if (!block) throw new Error('docs/architecture.md has no ```layers block');
  const rows = new Map<string, number>();
  block
    .trim()
    .split('\n')
    .forEach((line, row) => {
      for (const name of line.trim().split(/\s+/)) rows.set(name, row);
    });
  return rows;
}

interface Import {
  from: string;
  to: string;
  typeOnly: boolean;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return path.includes(`${sep}console${sep}ui`) ? [] : sources(path);
    return /\.ts$/.test(entry.name) && !/\.test\.ts$/.test(entry.name) && !entry.name.endsWith('.d.ts')
      ? [path]
      : [];
  });
}

function importsOf(file: string): Import[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const found: Import[] = [];
  const add = (specifier: string, typeOnly: boolean) => {
    if (specifier.startsWith('.'))
      found.push({ from: file, to: resolve(dirname(file), specifier), typeOnly });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const bindings = clause?.namedBindings;
      const allTypes =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            bindings !== undefined &&
            ts.isNamedImports(bindings) &&
            bindings.elements.length > 0 &&
            bindings.elements.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier.text, allTypes);
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      add(node.moduleSpecifier.text, node.isTypeOnly);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      add(node.arguments[0].text, false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** `proxy` for src/proxy/x.ts, `keygate.ts` for src/keygate.ts. */
const partOf = (file: string) => relative(SRC, file).split(sep)[0] as string;
const show = (file: string) => relative(join(SRC, '..'), file);

const files = sources(SRC);
const imports = files.flatMap(importsOf);

describe('layers (docs/architecture.md)', () => {
  const rows = drawing();

  it('draws every folder and top-level file of src/', () => {
    const parts = new Set(files.map(partOf));
    expect([...parts].filter((p) => !rows.has(p)).sort()).toEqual([]);
  });

  it('has no runtime import up the drawing or across a line', () => {
    const wrong = imports
      .filter(({ from, to, typeOnly }) => {
        if (typeOnly || !to.startsWith(SRC + sep)) return false;
        const a = partOf(from);
        const b = partOf(to);
        return a !== b && (rows.get(b) ?? -1) <= (rows.get(a) ?? -1);
      })
      .map(({ from, to }) => `${show(from)} -> ${show(to)}`);
    expect(wrong).toEqual([]);
  });

  it('has no import cycle between the files of one folder (type-only imports included)', () => {
    const next = new Map<string, string[]>();
    for (const { from, to } of imports) {
      const target = files.includes(to) ? to : undefined;
      if (target && partOf(from) === partOf(target)) next.set(from, [...(next.get(from) ?? []), target]);
    }
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const walk = (file: string, path: string[]) => {
      state.set(file, 'open');
      for (const to of next.get(file) ?? []) {
        if (state.get(to) === 'open')
          cycles.push([...path.slice(path.indexOf(to)), file, to].map(show).join(' -> '));
        else if (!state.has(to)) walk(to, [...path, file]);
      }
      state.set(file, 'done');
    };
    for (const file of files) if (!state.has(file)) walk(file, []);
    expect(cycles).toEqual([]);
  });
});
