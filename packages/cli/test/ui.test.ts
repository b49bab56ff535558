// `wf ui` serves the inspector over the store on 127.0.0.1, prints where,
// warns when bound elsewhere, and stops cleanly on Ctrl-C.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APPROVAL, seed } from "./helpers.js";
import { makeStore, type TestStore } from "./stores.js";

const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));

/** Starts `wf ui` and resolves once it printed its URL on stdout and its last note on stderr. */
async function startUi(
  args: string[],
): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const found = /at (http:\/\/\S+)/.exec(stdout);
      if (found?.[1] && stderr.includes("Press Ctrl-C to stop.")) resolve(found[1]);
    };
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      check();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      check();
    });
    child.once("exit", (code) =>
      reject(new Error(`wf ui exited with ${code} before serving: ${stderr}`)),
    );
  });
  return { child, url, stderr: () => stderr };
}

describe("wf ui", () => {
  let store: TestStore;

  beforeAll(async () => {
    store = await makeStore("fs");
    const storage = await store.open();
    await seed(storage);
    await storage.close();
  });
  afterAll(() => store.dispose());

  it("serves the inspector on 127.0.0.1 and stops on SIGINT with exit code 0", async () => {
    const ui = await startUi(["--store", store.url, "ui", "--port", "0", "--definition", APPROVAL]);
    try {
      const url = new URL(ui.url);
      expect(url.hostname).toBe("127.0.0.1");
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("<html");
      expect(ui.stderr()).not.toContain("warning");
    } finally {
      ui.child.kill("SIGINT");
    }
    const [code] = await once(ui.child, "exit");
    expect(code).toBe(0);
  });

  it("warns when bound to another address", async () => {
    const ui = await startUi(["--store", store.url, "ui", "--port", "0", "--host", "0.0.0.0"]);
    try {
      expect(ui.stderr()).toContain("warning: serving on 0.0.0.0");
      expect(ui.stderr()).toContain("resume, fork and answer are off");
    } finally {
      ui.child.kill("SIGINT");
    }
    await once(ui.child, "exit");
  });

  it("refuses a bad port as a usage error", async () => {
    const child = spawn(process.execPath, [BIN, "--store", store.url, "ui", "--port", "http"], {
      stdio: "ignore",
    });
    const [code] = await once(child, "exit");
    expect(code).toBe(2);
  });
});
