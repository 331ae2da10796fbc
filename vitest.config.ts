import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Engine tests spawn the built CLI; build once before any test file runs.
    globalSetup: ["test/global-setup.ts"],
  },
});
