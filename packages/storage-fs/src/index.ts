export { FileSystemStorage, type FileSystemStorageOptions } from "./file-system-storage.js";
