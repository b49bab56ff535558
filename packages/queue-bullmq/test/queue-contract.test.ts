import { queueContractSuite } from "@wf/worker/queue-suite";
import { freshQueue } from "./servers.js";

queueContractSuite({ name: "BullMQQueue", create: freshQueue });
