import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { KeygateError } from '../errors.ts';

const NO_TOKEN =
  'The admin API is disabled: no admin token is configured; set KEYGATE_ADMIN_TOKEN (or admin.token) and restart Keygate.';
const MISSING = 'The admin API needs the admin token: send Authorization: Bearer <KEYGATE_ADMIN_TOKEN>.';
const WRONG = 'The admin token is wrong: send the KEYGATE_ADMIN_TOKEN Keygate was started with.';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * An onRequest hook that lets a request through only with `Authorization: Bearer <admin token>`.
 * Both sides are hashed first so the comparison is constant-time whatever the lengths.
 * Without a configured token, the admin API refuses everything.
 */
export function adminAuth(adminToken: string | undefined): onRequestHookHandler {
  const expected = adminToken ? digest(adminToken) : undefined;
  return (request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
    const header = request.headers.authorization;
    const presented =
      typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (!expected) {
      done(new KeygateError('unauthorized', { message: NO_TOKEN }));
      return;
    }
    if (presented === '' || !timingSafeEqual(digest(presented), expected)) {
      done(new KeygateError('unauthorized', { message: presented === '' ? MISSING : WRONG }));
      return;
    }
    done();
  };
}
