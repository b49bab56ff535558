export { type CliIO, DEFAULT_STORE } from "./context.js";
export { loadDefinitions, pickDefinition } from "./definition-module.js";
export { EXIT_OK, EXIT_OPERATIONAL, EXIT_USAGE } from "./errors.js";
export { buildProgram, runCli } from "./program.js";
export { type Change, diffSteps } from "./state-diff.js";
