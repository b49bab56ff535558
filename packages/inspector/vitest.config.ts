import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "inspector",
    include: ["test/**/*.test.ts"],
    // Finds (or starts) the PostgreSQL server the PostgreSQL round of the browser test uses.
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 60_000,
    // The browser test waits for the page to catch up with the store; generous, as CI machines are busy.
    expect: { poll: { timeout: 15_000, interval: 50 } },
    hookTimeout: 120_000,
  },
});
