import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', './test/tools/summary-reporter.ts'],
    coverage: {
      provider: 'v8',
      include: ['lib/**/*.ts', 'functions/**/*.ts', 'local/**/*.ts', 'infra/**/*.ts'],
      reporter: ['text-summary', 'json-summary'],
      thresholds: {
        'lib/domain/**': { lines: 95, branches: 95 },
        // Use cases, job engine and job kinds included; holds with test/unit and test/api alone.
        'lib/usecases/**': { lines: 90 },
      },
    },
  },
});
