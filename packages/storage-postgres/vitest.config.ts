import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "storage-postgres",
    include: ["test/**/*.test.ts"],
    // Finds PostgreSQL (or starts a private one) once; each file works in its own schema.
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
