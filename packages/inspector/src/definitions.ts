import { assertValidId, type WorkflowSpec } from "@wf/core";

/** The definitions by workflow id; TypeError for a malformed list or a workflow given twice. */
export function indexDefinitions(
  definitions: readonly WorkflowSpec[] | undefined,
): Map<string, WorkflowSpec> {
  const byWorkflow = new Map<string, WorkflowSpec>();
  if (definitions === undefined) return byWorkflow;
  if (!Array.isArray(definitions)) {
    throw new TypeError("definitions must be an array of workflow definitions.");
  }
  for (const [index, definition] of definitions.entries()) {
    if (typeof definition !== "object" || definition === null) {
      throw new TypeError(
        `definitions[${index}] must be an object like WorkflowEngine.create takes.`,
      );
    }
    assertValidId(definition.workflowId, `definitions[${index}].workflowId`);
    if (!Array.isArray(definition.nodes) || definition.nodes.length === 0) {
      throw new TypeError(`definitions[${index}] (${definition.workflowId}) has no nodes.`);
    }
    if (byWorkflow.has(definition.workflowId)) {
      throw new TypeError(
        `Workflow ${JSON.stringify(definition.workflowId)} is defined twice; give each workflow one definition.`,
      );
    }
    byWorkflow.set(definition.workflowId, definition);
  }
  return byWorkflow;
}
