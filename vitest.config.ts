import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{server,media,client-sdk,load-tests}/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites start real gateways; two workers match the two cores here.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
