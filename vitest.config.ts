import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.unit.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          exclude: ['test/integration/**/*.browser.test.ts', 'test/integration/**/*.slow.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Two cores: integration files start OpenBao, Keygate and fake providers.
          maxWorkers: 2,
        },
      },
      {
        test: {
          // Chromium after the rest, one file at a time: it would eat the CPU that the
          // timing-sensitive refresh tests (replicas racing on 3 s cycles) need.
          name: 'browser',
          include: ['test/integration/**/*.browser.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          // Slow files (a three-node OpenBao cluster of their own) last, alone: they would
          // starve the timing-sensitive files of CPU. They bring their own Vault.
          name: 'slow',
          include: ['test/integration/**/*.slow.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 180_000,
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
