import { defineConfig } from "vitest/config";

// One project per package; `npm test` runs them through turbo, this file lets
// `npx vitest` at the root (and editors) see them all at once.
export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*"],
  },
});
