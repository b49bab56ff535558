// Hostile ids, step numbers, cursors and limits through the engine and every
// storage method, on every store (see src/properties/ids.ts).
import { idsProperty } from "../src/properties/ids.js";
import { hostileTests } from "./hostile-suite.js";

hostileTests(idsProperty);
