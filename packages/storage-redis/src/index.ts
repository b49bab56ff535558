export type { RedisStorageLogger } from "./durability-check.js";
export type { RedisStorageOptions } from "./options.js";
export { RedisStorage } from "./redis-storage.js";
