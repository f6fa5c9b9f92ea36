import { defineConfig } from 'vitest/config';

// `npm run histories:record`: runs real scenarios and writes their histories for replay tests.
export default defineConfig({
  test: {
    include: ['tests/replay/record-histories.rec.ts'],
    globalSetup: ['tests/setup/global.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
