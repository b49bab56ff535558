import { workerScenariosSuite } from "@wf/worker/queue-suite";
import { freshQueue, freshStorage } from "./servers.js";

workerScenariosSuite({
  name: "PgBossQueue + PostgresStorage",
  createQueue: freshQueue,
  createStorage: freshStorage,
});
