export { ChildFixture } from "./child-fixture.js";
export { freePort, portAnswers, waitForPort } from "./ports.js";
