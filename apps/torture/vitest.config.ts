import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "torture",
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // The property files wait on servers and disks far more than they compute.
    maxWorkers: 3,
  },
});
