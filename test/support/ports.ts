export { freePort } from '../../src/vault/dev-server.ts';
