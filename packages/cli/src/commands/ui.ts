import type { WorkflowSpec } from "@wf/core";
import type { Command } from "commander";
import { loadDefinitions } from "../definition-module.js";
import { OperationalError, UsageError } from "../errors.js";
import type { Action } from "../program.js";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);

/** Loads the inspector package only for `wf ui`, so the rest of wf works without it. */
async function loadInspector(): Promise<typeof import("@wf/inspector")> {
  try {
    return await import("@wf/inspector");
  } catch (error) {
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
    if (code === "ERR_MODULE_NOT_FOUND" && String(message).includes("@wf/inspector")) {
      throw new OperationalError(
        "wf ui needs the package @wf/inspector, which is not installed: npm install @wf/inspector",
      );
    }
    throw error;
  }
}

/** Opens `url` in the desktop's browser, if there is one; a headless machine just prints the URL. */
async function openBrowser(url: string): Promise<void> {
  const { spawn } = await import("node:child_process");
  const command =
    process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  const child = spawn(command, [url], { stdio: "ignore", detached: true });
  child.on("error", () => {});
  child.unref();
}

export function registerUi(program: Command, action: Action): void {
  program
    .command("ui")
    .description(
      "the inspector: a web UI over the store's journals, with time travel when --definition is given",
    )
    .option("--port <n>", "port to serve on", "4680")
    .option(
      "--host <host>",
      "address to serve on (default 127.0.0.1); another address needs the printed token",
    )
    .option(
      "--definition <module>",
      "module exporting workflow definitions: enables resume, fork and answer",
    )
    .option("--open", "open the page in a browser")
    .action(
      action(
        async (
          context,
          options: { port: string; host?: string; definition?: string; open?: boolean },
        ) => {
          if (!/^\d{1,5}$/.test(options.port) || Number(options.port) > 65_535) {
            throw new UsageError(
              `--port must be a port number (0 to 65535), got ${JSON.stringify(options.port)}.`,
            );
          }
          const host = options.host ?? "127.0.0.1";
          const definitions: WorkflowSpec[] = options.definition
            ? await loadDefinitions(options.definition)
            : [];
          const { startInspector } = await loadInspector();
          const storage = await context.store();
          if (!LOOPBACK.has(host)) {
            context.out.note(
              `warning: serving on ${host}, reachable from other machines. Every request must present the token in the URL below; share it only with people who may act on these runs.`,
            );
          }
          const inspector = await startInspector({
            storage,
            definitions,
            host,
            port: Number(options.port),
          });
          context.out.line(`Inspector for ${context.shown(context.storeUrl)} at ${inspector.url}`);
          if (definitions.length === 0) {
            context.out.note(
              "No --definition: resume, fork and answer are off (the page says why).",
            );
          }
          context.out.note("Press Ctrl-C to stop.");
          if (options.open) await openBrowser(inspector.url);
          await new Promise<void>((resolve) => {
            const stop = () => {
              process.off("SIGINT", stop);
              process.off("SIGTERM", stop);
              resolve();
            };
            process.on("SIGINT", stop);
            process.on("SIGTERM", stop);
          });
          await inspector.close();
        },
      ),
    );
}
