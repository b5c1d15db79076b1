/** A command failed: `exitCode` 1 (it ran and failed) or 2 (bad usage or configuration). */
export class CliError extends Error {
  readonly exitCode: 1 | 2;
  readonly code: string | undefined;
  constructor(message: string, exitCode: 1 | 2 = 1, code?: string) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.code = code;
  }
}

export interface Streams {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Writes a command's result: the JSON Keygate answered with --json, readable text otherwise. */
export class Output {
  readonly json: boolean;
  readonly #streams: Streams;

  constructor(json: boolean, streams: Streams = process) {
    this.json = json;
    this.#streams = streams;
  }

  /** The result: `value` as one JSON line with --json, else what `human` makes of it. */
  result(value: unknown, human: () => string): void {
    this.#streams.stdout.write(this.json ? `${JSON.stringify(value)}\n` : ensureNewline(human()));
  }

  /** A line for the human reading along (stderr, so stdout stays the result); silent with --json. */
  note(text: string): void {
    if (!this.json) this.#streams.stderr.write(ensureNewline(text));
  }

  line(text: string): void {
    this.#streams.stdout.write(ensureNewline(text));
  }

  error(err: CliError): void {
    this.#streams.stderr.write(
      this.json
        ? `${JSON.stringify({ error: { code: err.code ?? 'cli_error', message: err.message } })}\n`
        : `keygate: ${err.message}\n`,
    );
  }
}

const ensureNewline = (text: string) => (text.endsWith('\n') ? text : `${text}\n`);

/** Rows as aligned columns under a header; `(none)` when there are none. */
export function table(rows: readonly Record<string, unknown>[], columns: readonly string[]): string {
  if (rows.length === 0) return '(none)\n';
  const cells = rows.map((row) => columns.map((c) => cell(row[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  const format = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[format(columns.map((c) => c.toUpperCase())), ...cells.map(format)].join('\n')}\n`;
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return '-';
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
