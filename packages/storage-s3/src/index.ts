export type { S3StorageOptions } from "./options.js";
export { S3Storage } from "./s3-storage.js";
