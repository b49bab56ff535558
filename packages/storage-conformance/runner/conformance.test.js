// Run by the `wf-conformance` bin: registers the suite for the module named
// in WF_CONFORMANCE_MODULE, whose default export is the store factory (or the
// full options object of defineStorageConformance).
import { defineStorageConformance } from "../dist/index.js";

const target = process.env.WF_CONFORMANCE_MODULE;
if (!target)
  throw new Error("WF_CONFORMANCE_MODULE is not set; run this through `wf-conformance <module>`.");
const { default: exported } = await import(target);
const options = typeof exported === "function" ? { create: exported } : exported;
if (typeof options?.create !== "function") {
  throw new TypeError(
    `${target} must default-export a factory returning a store, or { name, create, destroy?, capabilities? }.`,
  );
}
// The module itself is what the cross-process tests load in each child process.
defineStorageConformance({
  name: process.env.WF_CONFORMANCE_NAME || target,
  module: target,
  ...options,
});
