// Records damaged behind the store's back, read through the API
// (see src/properties/damaged.ts).
import { damagedProperty } from "../src/properties/damaged.js";
import { hostileTests } from "./hostile-suite.js";

hostileTests(damagedProperty);
