import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Node, type WorkflowSpec } from "@wf/core";
import { OperationalError, UsageError } from "./errors.js";

const SHAPE_HELP =
  "Export the definition as `export default { workflowId, nodes, edges, start }` " +
  "(or `export const workflow = …`, or several as `export const workflows = [ … ]`).";

/** Loads a module and returns every workflow definition it exports. */
export async function loadDefinitions(path: string): Promise<WorkflowSpec[]> {
  const file = resolve(path);
  if (!existsSync(file)) {
    throw new UsageError(`--definition ${JSON.stringify(path)}: there is no file at ${file}.`);
  }
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const hint = /\.[mc]?tsx?$/.test(file)
      ? " Node 20 cannot load TypeScript directly: compile the module to JavaScript first (tsc), or run wf with `node --import tsx`."
      : " Fix the module so that `node` can import it.";
    throw new OperationalError(
      `--definition ${JSON.stringify(path)} failed to load: ${reason}.${hint}`,
    );
  }
  const candidates = [loaded.default, loaded.workflow, loaded.workflows]
    .flatMap((value) => (Array.isArray(value) ? value : [value]))
    .filter((value) => value !== undefined);
  const definitions = candidates.filter(isDefinition);
  if (definitions.length === 0 && candidates.some(looksLikeDefinition)) {
    throw new UsageError(
      `--definition ${JSON.stringify(path)} exports a definition whose nodes are not Nodes of the @wf/core that wf uses: install @wf/cli in the same project as the module (npm install -D @wf/cli) and run it with npx wf.`,
    );
  }
  if (definitions.length === 0) {
    const exported = Object.keys(loaded).join(", ") || "nothing";
    throw new UsageError(
      `--definition ${JSON.stringify(path)} exports no workflow definition (it exports: ${exported}). ${SHAPE_HELP}`,
    );
  }
  return definitions;
}

/** The definition of `workflowId` among those a module exports. */
export function pickDefinition(
  definitions: readonly WorkflowSpec[],
  workflowId: string,
  path: string,
): WorkflowSpec {
  const found = definitions.find((definition) => definition.workflowId === workflowId);
  if (!found) {
    const ids = definitions.map((definition) => JSON.stringify(definition.workflowId)).join(", ");
    throw new UsageError(
      `--definition ${JSON.stringify(path)} has no workflow ${JSON.stringify(workflowId)} (it defines ${ids}).`,
    );
  }
  return found;
}

function looksLikeDefinition(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const { workflowId, nodes } = value as { workflowId?: unknown; nodes?: unknown };
  return typeof workflowId === "string" && Array.isArray(nodes) && nodes.length > 0;
}

function isDefinition(value: unknown): value is WorkflowSpec {
  return (
    looksLikeDefinition(value) &&
    (value as { nodes: unknown[] }).nodes.every((node) => node instanceof Node)
  );
}
