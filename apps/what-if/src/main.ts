#!/usr/bin/env node
// npm run what-if -- [--store <url>] [--answer decline|counter] [--set income=90000]
import { parseArgs } from "node:util";
import type { LoanState } from "./loan.js";
import { whatIf } from "./what-if.js";

const { values } = parseArgs({
  options: {
    store: { type: "string", default: process.env.WF_STORE ?? "file:./logs" },
    answer: { type: "string", default: "counter" },
    set: { type: "string", multiple: true, default: ["income=90000"] },
  },
});

const changes: Partial<LoanState> = {};
for (const pair of values.set ?? []) {
  const [key, raw] = pair.split("=", 2);
  if (!key || raw === undefined) {
    console.error(`--set takes key=value, such as income=90000; got ${JSON.stringify(pair)}`);
    process.exit(2);
  }
  (changes as Record<string, unknown>)[key] = Number.isNaN(Number(raw)) ? raw : Number(raw);
}

await whatIf({
  store: values.store ?? "file:./logs",
  answer: values.answer ?? "counter",
  changes,
  out: (line) => console.log(line),
});
