/**
 * What one crash cycle's child process does, decided by the parent from the
 * cycle's seed and handed over as JSON, and the lines the child prints:
 *
 *   ready                    the store is open; work starts
 *   begin <what>             an append starts: `create <index>` or `<runId> <step>`
 *   ack <runId> <step> <hash> the append of that step was acknowledged; hash of its shared state
 *   done                     every run completed (the kill came too late)
 */
export interface CrashPlan {
  workflowId: string;
  /** Nodes per run: a completed run has nodes + 1 steps. */
  nodes: number;
  /** Per run, the payload size written by each node: the state's size varies step by step. */
  sizes: number[][];
  /** When set, the child SIGKILLs itself `delayUs` after the `atAppend`-th append began. */
  selfKill: { atAppend: number; delayUs: number } | null;
}

/** An acknowledged step as the child reported it. */
export interface Acknowledgement {
  runId: string;
  step: number;
  hash: string;
}

export function parseAck(line: string): Acknowledgement | null {
  const match = /^ack (\S+) (\d+) ([0-9a-f]+)$/.exec(line);
  if (!match) return null;
  return { runId: match[1] as string, step: Number(match[2]), hash: match[3] as string };
}
