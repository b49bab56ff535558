// The whole @wf/storage-conformance suite against a real PostgreSQL, all in one schema.
import { defineStorageConformance } from "@wf/storage-conformance";
import { PostgresStorage } from "../src/index.js";
import { damageRecord, postgresUrl, testSchema } from "./helpers.js";

const connectionString = postgresUrl();
const schema = testSchema("conformance");

defineStorageConformance({
  name: "PostgresStorage",
  create: () => new PostgresStorage({ connectionString, schema }),
  damage: (target, text) => damageRecord(schema, target, text),
  // The same factory for the cross-process tests' child processes.
  module: `${new URL("./fixtures/conformance-factory.mjs", import.meta.url).href}?${new URLSearchParams({ url: connectionString, schema })}`,
});
