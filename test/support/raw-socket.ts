import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  /** Lower-cased names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
}

/** A TCP connection to Keygate on which a test writes bytes exactly as it means them. */
export interface RawConnection {
  socket: Socket;
  write(data: string | Buffer): void;
  /** The next complete response (Content-Length or chunked) read from the connection. */
  response(): Promise<RawResponse>;
  /** Resolves once the server has closed the connection (FIN or reset). */
  closed: Promise<void>;
  /** Everything received so far. */
  received(): string;
  destroy(): void;
}

interface Parsed {
  response: RawResponse;
  length: number;
}

// One response at the start of `text`, if it is all there.
function parseResponse(text: string): Parsed | undefined {
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd === -1) return undefined;
  const [statusLine = '', ...lines] = text.slice(0, headEnd).split('\r\n');
  const status = Number(statusLine.split(' ')[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const start = headEnd + 4;
  if (headers['transfer-encoding']?.includes('chunked')) {
    let at = start;
    let body = '';
    for (;;) {
      const sizeEnd = text.indexOf('\r\n', at);
      if (sizeEnd === -1) return undefined;
      const size = parseInt(text.slice(at, sizeEnd), 16);
      if (text.length < sizeEnd + 2 + size + 2) return undefined;
      body += text.slice(sizeEnd + 2, sizeEnd + 2 + size);
      at = sizeEnd + 2 + size + 2;
      if (size === 0) return { response: { status, headers, body }, length: at };
    }
  }
  const length = Number(headers['content-length'] ?? 0);
  if (text.length < start + length) return undefined;
  return { response: { status, headers, body: text.slice(start, start + length) }, length: start + length };
}

/** Opens a raw connection to `origin` (http://host:port). Latin-1 in, Latin-1 out: bytes stay bytes. */
export async function openRaw(origin: string): Promise<RawConnection> {
  const { hostname, port } = new URL(origin);
  const socket = connect(Number(port), hostname);
  socket.setEncoding('latin1');
  // A reset is one way for the server to close; tests assert on `closed`, not on errors.
  socket.on('error', () => {});
  let buffer = '';
  let all = '';
  const waiting: Array<() => void> = [];
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    all += chunk;
    for (const wake of waiting.splice(0)) wake();
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  void closed.then(() => {
    for (const wake of waiting.splice(0)) wake();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return {
    socket,
    write: (data) => void socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data),
    async response() {
      for (;;) {
        const parsed = parseResponse(buffer);
        if (parsed) {
          buffer = buffer.slice(parsed.length);
          return parsed.response;
        }
        if (socket.destroyed || socket.readableEnded) {
          throw new Error(`the connection closed before a full response; received: ${JSON.stringify(all)}`);
        }
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
    },
    closed,
    received: () => all,
    destroy: () => socket.destroy(),
  };
}

/** One request written raw on a fresh connection; the response, then the connection is dropped. */
export async function rawExchange(origin: string, bytes: string | Buffer): Promise<RawResponse> {
  const conn = await openRaw(origin);
  try {
    conn.write(bytes);
    return await conn.response();
  } finally {
    conn.destroy();
  }
}
