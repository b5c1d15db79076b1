import { hostname } from 'node:os';

/** This process's name in events and among replicas: the configured id, else host name + pid. */
export function replicaId(configured?: string): string {
  return configured ?? `${hostname()}-${process.pid}`;
}
