import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "storage-redis",
    include: ["test/**/*.test.ts"],
    // Finds or starts the Redis every test file shares (WF_TEST_REDIS_URL,
    // 127.0.0.1:6379, else a private redis-server) and removes our keys after.
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Files start private servers and child processes; one at a time keeps
    // them from competing for the two cores this runs on.
    fileParallelism: false,
  },
});
