export { freePort, portAnswers, waitForPort } from "./ports.js";
