import { defineConfig } from 'vitest/config';

// Unit tests only: no global setup, no services.
export default defineConfig({
  test: { include: ['tests/unit/**/*.test.ts'] },
});
