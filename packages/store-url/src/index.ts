export { openStore, SUPPORTED_SCHEMES } from "./open-store.js";
