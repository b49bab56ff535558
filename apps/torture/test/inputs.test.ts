// Hostile answers to a waiting run (see src/properties/inputs.ts).
import { inputsProperty } from "../src/properties/inputs.js";
import { hostileTests } from "./hostile-suite.js";

hostileTests(inputsProperty);
