import { workerScenariosSuite } from "@wf/worker/queue-suite";
import { freshQueue, freshStorage } from "./servers.js";

workerScenariosSuite({
  name: "BullMQQueue + RedisStorage",
  createQueue: freshQueue,
  createStorage: freshStorage,
});
