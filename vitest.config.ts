import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Tests start real servers on port 0; a few files at a time keeps the 2-core machine responsive.
    maxWorkers: 2,
  },
});
