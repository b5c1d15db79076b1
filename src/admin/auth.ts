import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { KeygateError } from '../errors.ts';

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
    if (!expected || presented === '' || !timingSafeEqual(digest(presented), expected)) {
      done(new KeygateError('unauthorized'));
      return;
    }
    done();
  };
}
