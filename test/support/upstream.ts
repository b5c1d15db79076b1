import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One request as the fake upstream received it: raw target, headers and body bytes. */
export interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export type Handler = (req: Received, res: ServerResponse, raw: IncomingMessage) => void | Promise<void>;

export interface FakeUpstream {
  /** e.g. http://127.0.0.1:41234 */
  origin: string;
  received: Received[];
  /** Replaces how requests are answered (default: 200 JSON echo of method and url). */
  handle(handler: Handler): void;
  stop(): Promise<void>;
}

const echo: Handler = (req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ method: req.method, url: req.url }));
};

function serve(server: Server, scheme: 'http' | 'https'): Promise<FakeUpstream> {
  const received: Received[] = [];
  let handler: Handler = echo;
  server.on('request', (raw: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    raw.on('data', (c: Buffer) => chunks.push(c));
    raw.on('end', () => {
      const req = {
        method: raw.method ?? '',
        url: raw.url ?? '',
        headers: raw.headers,
        body: Buffer.concat(chunks),
      };
      received.push(req);
      Promise.resolve(handler(req, res, raw)).catch(() => res.destroy());
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        origin: `${scheme}://127.0.0.1:${port}`,
        received,
        handle: (h) => void (handler = h),
        stop: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

/** A plain HTTP upstream on loopback that records every request it gets. */
export function startUpstream(handler?: Handler): Promise<FakeUpstream> {
  return serve(createHttpServer(), 'http').then((u) => {
    if (handler) u.handle(handler);
    return u;
  });
}

/** A self-signed certificate for 127.0.0.1, made with openssl; its PEM doubles as the CA to trust. */
export function selfSignedCert(): { key: string; cert: string; certFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'keygate-tls-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1']
      .concat(['-keyout', keyFile, '-out', certFile, '-subj', '/CN=127.0.0.1'])
      .concat(['-addext', 'subjectAltName=IP:127.0.0.1']),
    { stdio: 'ignore' },
  );
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile };
}

/** An HTTPS upstream with a self-signed certificate (not trusted by the system). */
export function startTlsUpstream(
  tls: { key: string; cert: string },
  handler?: Handler,
): Promise<FakeUpstream> {
  return serve(createHttpsServer({ key: tls.key, cert: tls.cert }), 'https').then((u) => {
    if (handler) u.handle(handler);
    return u;
  });
}
