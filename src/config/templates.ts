import { Type, type Static } from '@sinclair/typebox';
import catalogue from './templates.json' with { type: 'json' };

/**
 * The built-in catalogue an integration can start from with `template: NAME`, kept as
 * data in templates.json. Only non-secret facts: where the API lives, how it takes its
 * credential, and where each fact was checked (`about`). A `{placeholder}` in a URL is
 * a per-deployment value (a shop's host, a cloud id) that the integration must set.
 */
export const TemplateAboutSchema = Type.Object(
  {
    title: Type.String({ minLength: 1 }),
    category: Type.Union([Type.Literal('ai'), Type.Literal('saas')]),
    /** The provider's own pages to read for this API (and the cross-check source). */
    docs: Type.Array(Type.String({ pattern: '^https://' }), { minItems: 1 }),
    /** What was checked against which source; a fact no source confirmed is left out. */
    verified: Type.String({ minLength: 1 }),
    /** `{name}` in the template → what the integration must put there. */
    placeholders: Type.Optional(
      Type.Record(Type.String({ pattern: '^[a-zA-Z][a-zA-Z0-9_]*$' }), Type.String()),
    ),
    notes: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type TemplateAbout = Static<typeof TemplateAboutSchema>;

type Entry = { about: TemplateAbout } & Record<string, unknown>;
const entries = Object.entries(catalogue as unknown as Record<string, Entry>);

/** The configuration part of each template, merged under the integration's own fields. */
export const TEMPLATES: Readonly<Record<string, Record<string, unknown>>> = Object.freeze(
  Object.fromEntries(entries.map(([name, { about: _about, ...config }]) => [name, config])),
);

/** What each template is and how its facts were checked. */
export const TEMPLATE_ABOUT: Readonly<Record<string, TemplateAbout>> = Object.freeze(
  Object.fromEntries(entries.map(([name, { about }]) => [name, about])),
);

const PLACEHOLDER = /\{([a-zA-Z][a-zA-Z0-9_]*)\}/g;

/**
 * Problems for the template placeholders an integration left in place, e.g.
 * `integrations.shop.baseUrl: replace {shop} (the shop's myshopify.com subdomain)`.
 */
export function placeholderProblems(
  at: string,
  template: string | undefined,
  integration: unknown,
): string[] {
  const wanted = template === undefined ? undefined : TEMPLATE_ABOUT[template]?.placeholders;
  if (!wanted) return [];
  const problems: string[] = [];
  const walk = (node: unknown, field: string) => {
    if (typeof node === 'string') {
      for (const [, name] of node.matchAll(PLACEHOLDER)) {
        const what = name === undefined ? undefined : wanted[name];
        if (what !== undefined) problems.push(`${field}: replace {${name}} (${what})`);
      }
    } else if (Array.isArray(node)) node.forEach((item, i) => walk(item, `${field}.${i}`));
    else if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) walk(value, `${field}.${key}`);
    }
  };
  walk(integration, at);
  return problems;
}
