import { readFileSync } from 'node:fs';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { ConfigSchema, NAME_PATTERN, type Config } from './schema.ts';
import { reauthIdentityProblems } from './reauth-identity.ts';
import { substitute } from './substitute.ts';
import { applyOtelEnv } from './telemetry-env.ts';
import { placeholderProblems, TEMPLATES } from './templates.ts';

/** The configuration is wrong; `problems` names every bad field. Exit status 2 at the CLI. */
export class ConfigError extends Error {
  readonly code = 'config_invalid';
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    super(`invalid configuration in ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type Env = Readonly<Record<string, string | undefined>>;
type Tree = Record<string, unknown>;

/** Reads, substitutes, overrides, validates and freezes the configuration file at `path`. */
export function loadConfigFile(path: string, env: Env = process.env): Readonly<Config> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [`cannot read the file: ${(err as NodeJS.ErrnoException).code ?? 'error'}`]);
  }
  return parseConfig(text, env, path);
}

export function parseConfig(
  text: string,
  env: Env = process.env,
  source = 'configuration',
): Readonly<Config> {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigError(source, [`not valid YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(source, ['the top level must be a mapping']);
  }
  const problems: string[] = [];
  const tree = substitute(raw, env, ConfigSchema, problems) as Tree;
  applyEnvOverrides(tree, env);
  applyTemplates(tree, problems);
  problems.push(...nameProblems(tree));
  const withDefaults = Value.Default(ConfigSchema, Value.Clone(tree)) as Tree;
  const reported = new Set(problems.map((p) => p.split(':')[0]));
  for (const error of Value.Errors(ConfigSchema, withDefaults)) {
    const field = fieldName(error.path);
    if (!reported.has(field)) problems.push(`${field}: ${error.message}`);
  }
  if (problems.length === 0) problems.push(...crossFieldProblems(withDefaults as Config));
  if (problems.length > 0) throw new ConfigError(source, dedupe(problems));
  return deepFreeze(withDefaults as Config);
}

function section(tree: Tree, key: string): Tree {
  const current = tree[key];
  if (current !== null && typeof current === 'object' && !Array.isArray(current)) return current as Tree;
  const created: Tree = {};
  tree[key] = created;
  return created;
}

function applyEnvOverrides(tree: Tree, env: Env): void {
  const set = (value: string | undefined, apply: (v: string) => void) => {
    if (value !== undefined && value !== '') apply(value);
  };
  set(env['KEYGATE_HOST'], (v) => (section(tree, 'server')['host'] = v));
  set(env['KEYGATE_PORT'], (v) => (section(tree, 'server')['port'] = /^\d+$/.test(v) ? Number(v) : v));
  set(env['KEYGATE_ADMIN_TOKEN'], (v) => (section(tree, 'admin')['token'] = v));
  set(env['VAULT_ADDR'], (v) => (section(tree, 'vault')['address'] = v));
  set(env['VAULT_TOKEN'], (v) => (section(tree, 'vault')['token'] = v));
  set(env['VAULT_NAMESPACE'], (v) => (section(tree, 'vault')['namespace'] = v));
  if (env['VAULT_ROLE_ID'] || env['VAULT_SECRET_ID']) {
    const appRole = section(section(tree, 'vault'), 'appRole');
    set(env['VAULT_ROLE_ID'], (v) => (appRole['roleId'] = v));
    set(env['VAULT_SECRET_ID'], (v) => (appRole['secretId'] = v));
  }
  applyOtelEnv(tree, env, section);
}

function applyTemplates(tree: Tree, problems: string[]): void {
  const integrations = tree['integrations'];
  if (integrations === null || typeof integrations !== 'object') return;
  for (const [name, value] of Object.entries(integrations as Tree)) {
    if (value === null || typeof value !== 'object') continue;
    const template = (value as Tree)['template'];
    if (template === undefined) continue;
    const base = typeof template === 'string' ? TEMPLATES[template] : undefined;
    if (!base) {
      problems.push(
        `integrations.${name}.template: unknown template; known: ${Object.keys(TEMPLATES).join(', ')}`,
      );
      continue;
    }
    (integrations as Tree)[name] = merge(Value.Clone(base), value as Tree);
  }
}

function nameProblems(tree: Tree): string[] {
  const integrations = tree['integrations'];
  if (!isPlain(integrations)) return [];
  const pattern = new RegExp(NAME_PATTERN);
  return Object.keys(integrations as Tree)
    .filter((name) => !pattern.test(name))
    .map((name) => `integrations.${name}: the name must match ${NAME_PATTERN}`);
}

function merge(base: Tree, over: Tree): Tree {
  for (const [key, value] of Object.entries(over)) {
    const current = base[key];
    base[key] = isPlain(current) && isPlain(value) ? merge(current as Tree, value as Tree) : value;
  }
  return base;
}

const isPlain = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);

function crossFieldProblems(config: Config): string[] {
  const problems: string[] = [];
  const { token, appRole, auth } = config.vault;
  if (!token && !appRole && !auth.kubernetes) {
    problems.push(
      'vault: no credentials; set vault.token (VAULT_TOKEN), vault.appRole (VAULT_ROLE_ID and VAULT_SECRET_ID) or vault.auth.kubernetes',
    );
  }
  if (appRole && auth.kubernetes) {
    problems.push('vault.auth.kubernetes: choose one login method, vault.appRole or vault.auth.kubernetes');
  }
  problems.push(...reauthIdentityProblems(config.reauth.identity));
  if (config.refresh.leaseSeconds * 1000 <= config.refresh.tokenTimeoutMs) {
    // A lease that lapses mid-request would let a second replica spend the same refresh token.
    problems.push('refresh.leaseSeconds: must be longer than refresh.tokenTimeoutMs');
  }
  for (const [name, integration] of Object.entries(config.integrations)) {
    const at = `integrations.${name}`;
    const { auth, inject } = integration;
    problems.push(...placeholderProblems(at, integration.template, integration));
    const base = new URL(integration.baseUrl);
    if (base.search !== '' || base.hash !== '' || base.username !== '' || base.password !== '') {
      problems.push(`${at}.baseUrl: must be an origin and path only (no query, fragment or user info)`);
    }
    if (auth.type !== 'api_key') {
      if (!auth.tokenUrl) problems.push(`${at}.auth.tokenUrl: required for ${auth.type}`);
      if (!auth.clientId) problems.push(`${at}.auth.clientId: required for ${auth.type}`);
    }
    if (inject) {
      const styles = [inject.header !== undefined, inject.query !== undefined, inject.basic !== undefined];
      if (styles.filter(Boolean).length > 1)
        problems.push(`${at}.inject: choose one of header, query or basic`);
      if (inject.format !== undefined && inject.header === undefined) {
        problems.push(`${at}.inject.format: only applies with inject.header`);
      }
    }
  }
  return problems;
}

function fieldName(pointer: string): string {
  const parts = pointer
    .split('/')
    .filter(Boolean)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  return parts.length === 0 ? '(top level)' : parts.join('.');
}

const dedupe = (items: string[]) => [...new Set(items)];

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}
