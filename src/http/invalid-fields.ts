import { KeygateError } from '../errors.ts';

/**
 * One 400 `validation_failed` for every problem of a request at once. Each problem is a
 * detail line `<where>.<field>: <what>` (`body.apiKey: is required for an api_key
 * integration`), kept in `details` for programs; the message says the same in one
 * sentence a person reads, without schema paths:
 * "The request has invalid fields: apiKey is required for an api_key integration."
 */
export function invalidFields(details: readonly string[]): KeygateError {
  return new KeygateError('validation_failed', { message: invalidFieldsMessage(details), details });
}

export function invalidFieldsMessage(details: readonly string[]): string {
  const clauses = [...new Set(details.map(clause))];
  return `The request has invalid fields: ${clauses.join('; ')}.`;
}

const PLACES: Readonly<Record<string, (field: string) => string>> = {
  body: (field) => field,
  params: (field) => `the ${PATH_PARAMS[field] ?? field} in the path`,
  querystring: (field) => `the query parameter ${field}`,
  headers: (field) => `the header ${field}`,
};

const PATH_PARAMS: Readonly<Record<string, string>> = {
  id: 'key id',
  tenant: 'tenant name',
  integration: 'integration name',
  account: 'account name',
};

const WHOLE: Readonly<Record<string, string>> = {
  body: 'the body',
  params: 'the path',
  querystring: 'the query string',
  headers: 'the headers',
};

// A predicate reads after its subject as it is ("must be a list"); a bare participle
// gets its verb ("required ..." → "is required ...").
const VERB = /^(must|is|are|has|holds|cannot|may|does) /;

function clause(detail: string): string {
  const colon = detail.indexOf(': ');
  const target = colon < 0 ? detail : detail.slice(0, colon);
  const what = colon < 0 ? 'is invalid' : detail.slice(colon + 2);
  const dot = target.indexOf('.');
  const place = dot < 0 ? target : target.slice(0, dot);
  const field = dot < 0 ? '' : target.slice(dot + 1);
  const subject = field === '' ? (WHOLE[place] ?? place) : (PLACES[place] ?? ((f: string) => f))(field);
  return `${subject} ${VERB.test(what) ? what : `is ${what}`}`;
}

/** What an ajv error (as Fastify hands it over) says, as `<where>.<field>: <what>` lines. */
export interface AjvError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string | undefined;
}

/**
 * Detail lines for a Fastify validation error: ajv's errors grouped by the field they are
 * about, each said in words (a union of alternatives as "must be A or B"). Never the value.
 */
export function ajvDetails(errors: readonly AjvError[], where: string): string[] {
  // anyOf reports each failed alternative, then itself: its field is described once, from them.
  const unions = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const inUnion = (e: AjvError) =>
    unions.some(
      (u) =>
        e !== u && (e.instancePath === u.instancePath || e.instancePath.startsWith(`${u.instancePath}/`)),
    );
  const lines: string[] = [];
  for (const union of unions) {
    const alternatives = errors.filter((e) => e !== union && e.instancePath === union.instancePath);
    lines.push(`${target(where, union.instancePath)}: ${alternativesOf(alternatives)}`);
  }
  for (const e of errors) {
    if (unions.includes(e) || inUnion(e)) continue;
    const field =
      e.keyword === 'required'
        ? join(e.instancePath, String(e.params['missingProperty']))
        : e.keyword === 'additionalProperties'
          ? join(e.instancePath, String(e.params['additionalProperty']))
          : e.instancePath;
    lines.push(`${target(where, field)}: ${predicate(e)}`);
  }
  return [...new Set(lines)];
}

const join = (path: string, name: string) => `${path}/${name}`;

/** `body` + `/tenants/0` → `body.tenants[0]`. */
function target(where: string, instancePath: string): string {
  const field = instancePath
    .split('/')
    .filter(Boolean)
    .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`))
    .join('');
  return field === '' ? where : `${where}.${field}`;
}

function alternativesOf(errors: readonly AjvError[]): string {
  const consts = errors.filter((e) => e.keyword === 'const').map((e) => String(e.params['allowedValue']));
  const others = errors.filter((e) => e.keyword !== 'const' && e.keyword !== 'type').map(predicate);
  if (others.length === 0 && consts.length > 1) return `must be one of ${consts.join(', ')}`;
  const choices = [...consts, ...others.map((p) => p.replace(/^must be /, ''))];
  if (choices.length === 0) return 'does not match any accepted form';
  return `must be ${[...new Set(choices)].join(' or ')}`;
}

const TYPES: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a JSON object',
  null: 'null',
};

/**
 * Patterns in words. Keyed by the pattern itself (http/ sits below config/ and keys/, which
 * define them); `invalid-fields.unit.test.ts` checks the keys are the patterns in use.
 */
export const PATTERN_WORDS: Readonly<Record<string, string>> = {
  '^[a-z0-9][a-z0-9_-]{0,62}$':
    'a name: lowercase letters, digits, - and _, starting with a letter or digit, at most 63 characters',
  '^[a-z0-9]{16,64}$':
    'a key id: 16 to 64 lowercase letters and digits (the part of kg_<id>.<secret> before the dot)',
  '^(?:[1-9][0-9]{0,2}|1000)$': 'a whole number from 1 to 1000',
};

function predicate(e: AjvError): string {
  const p = e.params;
  const n = Number(p['limit']);
  switch (e.keyword) {
    case 'type':
      return `must be ${String(p['type'])
        .split(',')
        .map((t) => TYPES[t] ?? t)
        .join(' or ')}`;
    case 'required':
      return 'is missing';
    case 'additionalProperties':
      return 'is not a field Keygate takes here';
    case 'pattern': {
      const words = PATTERN_WORDS[String(p['pattern'])];
      return words ? `must be ${words}` : `must match the pattern ${String(p['pattern'])}`;
    }
    case 'minItems':
      return n === 1 ? 'must not be empty' : `must hold at least ${n} items`;
    case 'maxItems':
      return `must hold at most ${n} items`;
    case 'minLength':
      return n === 1 ? 'must not be empty' : `must be at least ${n} characters long`;
    case 'maxLength':
      return `must be at most ${n} characters long`;
    case 'minimum':
    case 'exclusiveMinimum':
    case 'maximum':
    case 'exclusiveMaximum':
      return `must be ${String(p['comparison'])
        .replace('>=', 'at least')
        .replace('<=', 'at most')
        .replace('>', 'more than')
        .replace('<', 'less than')} ${n}`;
    case 'enum':
      return `must be one of ${(p['allowedValues'] as unknown[]).map(String).join(', ')}`;
    case 'const':
      return `must be ${String(p['allowedValue'])}`;
    case 'format':
      return `must be ${FORMATS[String(p['format'])] ?? `a valid ${String(p['format'])}`}`;
    case 'uniqueItems':
      return 'must not hold the same item twice';
    default:
      return e.message ?? 'is invalid';
  }
}

const FORMATS: Readonly<Record<string, string>> = {
  'date-time': 'a date and time (RFC 3339, e.g. 2030-01-31T12:00:00Z)',
  uri: 'an absolute URL',
};
