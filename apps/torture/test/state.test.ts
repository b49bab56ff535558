// Hostile shared state: JSON round-trips exactly, the rest is NOT_SERIALIZABLE
// (see src/properties/state.ts).
import { stateProperty } from "../src/properties/state.js";
import { hostileTests } from "./hostile-suite.js";

hostileTests(stateProperty);
