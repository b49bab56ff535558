// The published contract suite, run against S3Storage on the S3-protocol test server, races and damaged records included.
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { defineStorageConformance } from "@wf/storage-conformance";
import { afterAll } from "vitest";
import type { S3Storage } from "../src/index.js";
import { KeyLayout } from "../src/key-layout.js";
import { openStore, rawClient, readObject, removePrefix, s3Config, testPrefix } from "./helpers.js";

// One prefix for the whole file: every store the suite creates, including the
// second one of a simulated restart, must see the same journal.
const prefix = testPrefix("conformance");
const { bucket } = s3Config();
const raw = rawClient();
const layout = new KeyLayout(prefix);
afterAll(async () => {
  raw.destroy();
  await removePrefix(prefix);
});

defineStorageConformance({
  name: "S3Storage",
  create: () => openStore(prefix),
  destroy: (storage) => storage.close(),
  // The flat-cost test also counts HTTP requests, not only contract calls.
  roundTrips: (storage) => (storage as S3Storage).requestsSent,
  // The same factory for the cross-process tests' child processes.
  module: `${new URL("./fixtures/conformance-factory.mjs", import.meta.url).href}?${new URLSearchParams({ config: JSON.stringify(s3Config()), prefix })}`,
  // Behind the store's back, through a client of its own: the metadata is the
  // `run` part of the run document (the whole document when the text is not
  // JSON); a step is its object, whose user metadata (status and time, which
  // readers probe) is kept as it was.
  async damage({ workflowId, runId, record }, text) {
    const keys = layout.run(workflowId, runId);
    const document = JSON.parse(await readObject(raw, bucket, keys.document)) as Record<
      string,
      unknown
    >;
    if (record === "metadata") {
      let body: string;
      if (text === null) {
        delete document.run;
        body = JSON.stringify(document);
      } else {
        try {
          body = JSON.stringify({ ...document, run: JSON.parse(text) });
        } catch {
          body = text;
        }
      }
      await raw.send(new PutObjectCommand({ Bucket: bucket, Key: keys.document, Body: body }));
      return;
    }
    const Key = layout.step(keys, document.incarnation as string, record);
    if (text === null) {
      await raw.send(new DeleteObjectCommand({ Bucket: bucket, Key }));
      return;
    }
    const { Metadata } = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key }));
    await raw.send(new PutObjectCommand({ Bucket: bucket, Key, Body: text, Metadata }));
  },
});
