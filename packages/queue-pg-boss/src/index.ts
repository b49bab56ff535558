export type { PgBossQueueOptions } from "./options.js";
export { PgBossQueue } from "./pg-boss-queue.js";
