import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { messageProblems } from '../../test/support/messages.ts';
import { ERRORS } from '../errors.ts';
import { httpError } from './admin-client.ts';

const URL = 'http://127.0.0.1:8080';

/** Every `new CliError(...)` message in the CLI's sources, its ${...} parts shown as X. */
function cliErrorMessages(): { where: string; text: string }[] {
  const dir = import.meta.dirname;
  const files = readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  const found: { where: string; text: string }[] = [];
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(join(dir, file), 'utf8'), ts.ScriptTarget.Latest);
    const visit = (node: ts.Node) => {
      if (ts.isNewExpression(node) && node.expression.getText(source) === 'CliError') {
        const first = node.arguments?.[0];
        const where = `${file}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1}`;
        if (first && (ts.isStringLiteral(first) || ts.isNoSubstitutionTemplateLiteral(first))) {
          found.push({ where, text: first.text });
        } else if (first && ts.isTemplateExpression(first)) {
          found.push({
            where,
            text: first.head.text + first.templateSpans.map((s) => `X${s.literal.text}`).join(''),
          });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

describe('CLI messages', () => {
  const literal = cliErrorMessages();

  it('finds the messages it checks', () => expect(literal.length).toBeGreaterThan(15));

  it.each(literal.map((m) => [m.where, m.text]))('%s reads cleanly', (_where, text) => {
    expect(messageProblems(text)).toEqual([]);
  });

  // Regression: "No credential is stored for this tenant and integration.; store one with ...".
  it.each(Object.entries(ERRORS))('Keygate answering %s reads cleanly', (code, { status, message }) => {
    const res = new Response(null, { status });
    for (const path of ['/v1/tenants/acme/credentials/github', '/v1/keys/0123456789abcdef']) {
      const err = httpError(res, { error: { code, message } }, 'POST', path, URL);
      expect(messageProblems(err.message), err.message).toEqual([]);
      expect(err.message.startsWith(`${code}: `)).toBe(code !== 'not_found');
    }
  });

  // Regression: a failed refresh (401 credential_refresh_failed) was blamed on the admin token.
  it('blames the admin token only for a 401 about the admin token', () => {
    const refresh = httpError(
      new Response(null, { status: 401 }),
      { error: { code: 'credential_refresh_failed', message: ERRORS.credential_refresh_failed.message } },
      'POST',
      '/v1/tenants/acme/credentials/demo-oauth/refresh',
      URL,
    );
    expect(refresh.message).toBe(
      'credential_refresh_failed: The credential could not be refreshed; the tenant must connect again with `keygate connect acme demo-oauth`',
    );
    const wrong = httpError(
      new Response(null, { status: 401 }),
      {
        error: {
          code: 'unauthorized',
          message: 'The admin token is wrong: send the KEYGATE_ADMIN_TOKEN Keygate was started with.',
        },
      },
      'GET',
      '/v1/keys',
      URL,
    );
    expect(wrong.message).toBe(
      `unauthorized: The admin token is wrong; set KEYGATE_ADMIN_TOKEN to the admin token of the Keygate at ${URL}`,
    );
  });
});
