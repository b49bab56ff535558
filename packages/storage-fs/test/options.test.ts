// What FileSystemStorage accepts as options, and FileSystemStorage.fromUrl:
// unknown keys and strings are refused, and every URL form puts the journal
// in the directory it names.
import { mkdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { runOnce } from "@wf/storage-conformance/records";
import { describe, expect, it } from "vitest";
import { FileSystemStorage } from "../src/index.js";
import { useTempDir } from "./helpers.js";

/** Runs a one-node workflow on `storage` to completion; resolves to its run id. */

describe("FileSystemStorage options", () => {
  const tempDir = useTempDir("options");

  it("refuses an unknown option, naming it", () => {
    expect(() => new FileSystemStorage({ dir: tempDir(), directory: "x" } as never)).toThrow(
      new TypeError('FileSystemStorage does not know the option "directory"; it takes dir, fsync.'),
    );
  });

  it("refuses a path string where the options object belongs, pointing at fromUrl", () => {
    expect(() => new FileSystemStorage("./logs" as never)).toThrow(
      'FileSystemStorage takes an options object, not a string ("./logs"): use FileSystemStorage.fromUrl(url).',
    );
  });
});

describe("FileSystemStorage.fromUrl", () => {
  const tempDir = useTempDir("from-url");

  async function expectRunIn(dir: string, url: string): Promise<void> {
    const storage = FileSystemStorage.fromUrl(url);
    expect(storage.dir).toBe(dir);
    const runId = await runOnce(storage);
    const plain = new FileSystemStorage({ dir });
    expect((await plain.getRun("from-url", runId)).status).toBe("completed");
    expect((await plain.getLatestStep("from-url", runId)).shared).toEqual({ count: 1 });
  }

  it("file:///absolute/path journals a run in that directory", async () => {
    const dir = join(tempDir(), "a b%");
    await expectRunIn(dir, pathToFileURL(dir).href);
  });

  it("file:relative/path is relative to the working directory, not the root", async () => {
    const dir = join(tempDir(), "logs");
    await mkdir(dir);
    await expectRunIn(dir, `file:${relative(process.cwd(), dir)}`);
    expect(FileSystemStorage.fromUrl("file:./logs").dir).toBe(join(process.cwd(), "logs"));
  });

  it("a bare path is the directory itself", async () => {
    await expectRunIn(join(tempDir(), "bare"), join(tempDir(), "bare"));
  });

  it("takes the other options, and refuses `dir` (the URL's) and unknown ones", () => {
    expect(() => FileSystemStorage.fromUrl(tempDir(), { fsync: false })).not.toThrow();
    expect(() => FileSystemStorage.fromUrl(tempDir(), { dir: "x" } as never)).toThrow(
      /already sets `dir`; give it in the URL or in the options, not both/,
    );
    expect(() => FileSystemStorage.fromUrl(tempDir(), { fsyn: false } as never)).toThrow(
      /does not know the option "fsyn"/,
    );
  });

  it.each(["", "file:", "file:///tmp/logs?fsync=false"])("refuses %j", (url) => {
    expect(() => FileSystemStorage.fromUrl(url)).toThrow(TypeError);
  });
});
