import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "quickstart",
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
  },
});
