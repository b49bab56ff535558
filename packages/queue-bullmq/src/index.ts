export { BullMQQueue } from "./bullmq-queue.js";
export type { BullMQQueueOptions } from "./options.js";
