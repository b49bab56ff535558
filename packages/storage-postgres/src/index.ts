export { LATEST_SCHEMA_VERSION } from "./migrations.js";
export type { PostgresStorageOptions } from "./options.js";
export { PostgresStorage } from "./postgres-storage.js";
