export {
  findBaoBinary,
  prepareVault,
  startBao,
  type BaoServer,
  type VaultTarget,
} from '../../src/vault/dev-server.ts';
