import type { TSchema } from '@sinclair/typebox';

type Env = Readonly<Record<string, string | undefined>>;

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${NAME}` and `${NAME:-default}` in every string of the tree. A string that
 * the substitution changed takes the type its field has in `schema` (integer, number or
 * boolean), so `port: ${KEYGATE_PORT:-8080}` is the number 8080, not the string "8080".
 * An unset variable without a default, or a value that is not of the field's type, is
 * a problem naming the field and the variable.
 */
export function substitute(node: unknown, env: Env, schema: TSchema, problems: string[]): unknown {
  return walk(node, env, [], schema, problems);
}

function walk(
  node: unknown,
  env: Env,
  path: string[],
  schema: TSchema | undefined,
  problems: string[],
): unknown {
  if (typeof node === 'string') return substituteString(node, env, path, schema, problems);
  if (Array.isArray(node)) {
    return node.map((item, i) => walk(item, env, [...path, String(i)], child(schema, String(i)), problems));
  }
  if (node !== null && typeof node === 'object') {
    return Object.fromEntries(
      Object.entries(node).map(([k, v]) => [k, walk(v, env, [...path, k], child(schema, k), problems)]),
    );
  }
  return node;
}

function substituteString(
  text: string,
  env: Env,
  path: string[],
  schema: TSchema | undefined,
  problems: string[],
): unknown {
  const field = path.length === 0 ? '(top level)' : path.join('.');
  const names: string[] = [];
  const out = text.replace(REFERENCE, (_m, name: string, fallback?: string) => {
    names.push(name);
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    problems.push(`${field}: environment variable ${name} is not set`);
    return '';
  });
  if (names.length === 0) return text;
  const type = scalarType(schema);
  if (type === undefined) return out;
  const typed = coerce(out.trim(), type);
  if (typed === undefined) {
    const expected =
      type === 'boolean' ? 'true or false' : `${type === 'integer' ? 'an integer' : 'a number'}`;
    problems.push(`${field}: ${names.join(', ')} gave "${out}", expected ${expected}`);
    return out;
  }
  return typed;
}

type Scalar = 'integer' | 'number' | 'boolean';

function coerce(text: string, type: Scalar): number | boolean | undefined {
  if (type === 'boolean') return text === 'true' ? true : text === 'false' ? false : undefined;
  if (!/^-?(\d+(\.\d+)?|\.\d+)([eE][-+]?\d+)?$/.test(text)) return undefined;
  const value = Number(text);
  return type === 'integer' && !Number.isInteger(value) ? undefined : value;
}

function scalarType(schema: TSchema | undefined): Scalar | undefined {
  if (!schema) return undefined;
  const type: unknown = schema['type'];
  if (type === 'integer' || type === 'number' || type === 'boolean') return type;
  return undefined;
}

// The schema of one step down: an object's property, a record's value, an array's item.
function child(schema: TSchema | undefined, key: string): TSchema | undefined {
  if (!schema) return undefined;
  const properties = schema['properties'] as Record<string, TSchema> | undefined;
  if (properties && key in properties) return properties[key];
  const patterns = schema['patternProperties'] as Record<string, TSchema> | undefined;
  if (patterns) return Object.values(patterns)[0];
  const items: unknown = schema['items'];
  if (items && typeof items === 'object' && !Array.isArray(items)) return items as TSchema;
  return undefined;
}
