import { Command, CommanderError } from "commander";
import { registerCancel } from "./commands/cancel.js";
import { registerCompletion } from "./commands/completion.js";
import { registerContinue } from "./commands/continue.js";
import { registerCopy } from "./commands/copy.js";
import { registerDelete } from "./commands/delete.js";
import { registerDiff } from "./commands/diff.js";
import { registerPrune } from "./commands/prune.js";
import { registerRuns } from "./commands/runs.js";
import { registerShow } from "./commands/show.js";
import { registerSteps } from "./commands/steps.js";
import { registerUi } from "./commands/ui.js";
import { registerValidate } from "./commands/validate.js";
import { registerWorkflows } from "./commands/workflows.js";
import { type CliIO, CommandContext, DEFAULT_STORE, type GlobalOptions } from "./context.js";
import { EXIT_OK, EXIT_OPERATIONAL, EXIT_USAGE, explain } from "./errors.js";
import { VERSION } from "./version.js";

/** Runs a command's body with its context, and turns what it throws into a message and an exit code. */
export type Action = (
  body: (context: CommandContext, ...args: never[]) => Promise<void>,
) => (...commanderArgs: unknown[]) => Promise<void>;

/** Builds the `wf` program. `setExitCode` receives the outcome of the command that ran. */
export function buildProgram(io: CliIO, setExitCode: (code: number) => void): Command {
  const program = new Command("wf")
    .description(
      "See, act on and move @wf workflow journals in any store.\n" +
        `The store is --store, else the WF_STORE variable, else ${DEFAULT_STORE}. Store URLs: ` +
        "file:./logs (or a path), postgres://…?schema=…, redis://…/db?prefix=…, rediss://…, s3://bucket/prefix?region=…&endpoint=….",
    )
    .version(VERSION, "-V, --version")
    .option("--store <url>", "the store holding the journals (default: WF_STORE, else file:./logs)")
    .option("--json", "print JSON for scripts instead of tables (shapes in the README)")
    .option("--no-color", "no colour even on a terminal (NO_COLOR does the same)")
    .showHelpAfterError("(run `wf --help` or `wf <command> --help` for usage)")
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride();

  const action: Action =
    (body) =>
    async (...commanderArgs) => {
      const command = commanderArgs.at(-1) as Command;
      const context = new CommandContext(io, command.optsWithGlobals<GlobalOptions>());
      try {
        await body(context, ...(commanderArgs.slice(0, -1) as never[]));
        setExitCode(EXIT_OK);
      } catch (error) {
        const explained = explain(error);
        if (context.json) {
          io.stderr.write(
            `${JSON.stringify({ error: { code: explained.code, message: explained.message } })}\n`,
          );
        } else {
          io.stderr.write(`wf: ${explained.message}\n`);
        }
        if (io.env.WF_DEBUG && error instanceof Error && error.stack) {
          io.stderr.write(`${error.stack}\n`);
        }
        setExitCode(explained.exitCode);
      } finally {
        await context.close();
      }
    };

  registerWorkflows(program, action);
  registerRuns(program, action);
  registerSteps(program, action);
  registerShow(program, action);
  registerDiff(program, action);
  registerCancel(program, action);
  registerDelete(program, action);
  registerPrune(program, action);
  registerValidate(program, action);
  registerContinue(program, action);
  registerCopy(program, action);
  registerUi(program, action);
  registerCompletion(program, action);
  return program;
}

/**
 * Runs `wf` with `argv` (without `node` and the script) and resolves to its
 * exit code: 0 ok, 1 operational error, 2 usage error.
 */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  let exitCode = EXIT_OK;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end with code 0; every parse error is a usage error.
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    io.stderr.write(`wf: ${explain(error).message}\n`);
    return EXIT_OPERATIONAL;
  }
  return exitCode;
}
