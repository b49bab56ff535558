/**
 * Where everything lives in the bucket (layout version 1). Under `{prefix}v1/`:
 *
 * ```
 * runs/{workflow}/{run}/run.json                     the run document: metadata + incarnation
 * runs/{workflow}/{run}/{incarnation}/{step}.json    one step record, step zero-padded to 12 digits
 * index/{workflow}/all/{order}/{incarnation}         one entry per run: listRuns
 * index/{workflow}/{status}/{order}/{incarnation}-{step}
 *                                                    one entry per status a run entered at {step}
 * workflows/{ascending code of the workflow id}      one marker per workflow with runs: listWorkflows
 * ```
 *
 * `{workflow}` and `{run}` are readable key segments (see id-codes.ts).
 * `{order}` is the descending code of the run's `createdAt` followed by that
 * of its run id, so a plain listing is newest first, ties broken by run id
 * descending. An incarnation is a random id chosen by each createRun: steps
 * live under it, so steps left behind by a deleted run, or written by a losing
 * createRun, can never be taken for the steps of a run created later under the
 * same id.
 *
 * Codes longer than 200 characters are split by `/` at fixed positions, which
 * keeps their order (`/` sorts before every code character) and keeps every
 * path segment within the 255 bytes file-system-backed servers allow.
 */
import { InvalidIdError, quoteId, type RunStatus } from "@wf/core";
import {
  ascendingCode,
  descendingCode,
  keySegment,
  readAscending,
  readDescending,
} from "./id-codes.js";

export const LAYOUT_VERSION = 1;
const STEP_DIGITS = 12;
export const MAX_STEP = 10 ** STEP_DIGITS - 1;
/** S3's limit on a key, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;
const CHUNK = 200;
/** Sorts after every character of an index entry's tail, so `{order}/~` skips all entries of one run. */
const PAST_RUN = "/~";

/** Keys of one run, from its ids. */
export interface RunKeys {
  workflowId: string;
  runId: string;
  workflowSegment: string;
  /** `runs/{workflow}/{run}/`. */
  dir: string;
  /** The run document. */
  document: string;
}

/** What an index entry's key says. */
export interface IndexEntry {
  key: string;
  /** Position in the listing; every entry of one run shares it. */
  order: string;
  createdAt: string;
  runId: string;
  incarnation: string;
  /** For status entries: the step at which the run entered the status. */
  step: number | null;
}

export class KeyLayout {
  /** `{prefix}v1/`. */
  readonly root: string;

  constructor(prefix: string) {
    this.root = `${prefix}v${LAYOUT_VERSION}/`;
  }

  run(workflowId: unknown, runId: unknown): RunKeys {
    const workflowSegment = keySegment(workflowId, "workflowId");
    const runSegment = keySegment(runId, "runId");
    const dir = `${this.root}runs/${workflowSegment}/${runSegment}/`;
    return {
      workflowId: workflowId as string,
      runId: runId as string,
      workflowSegment,
      dir,
      document: `${dir}run.json`,
    };
  }

  stepsPrefix(run: RunKeys, incarnation: string): string {
    return `${run.dir}${incarnation}/`;
  }

  step(run: RunKeys, incarnation: string, step: number): string {
    return `${this.stepsPrefix(run, incarnation)}${String(step).padStart(STEP_DIGITS, "0")}.json`;
  }

  /** The step number a step key names, or null for a key that is not a step. */
  stepOf(stepsPrefix: string, key: string): number | null {
    const match = /^(\d{12})\.json$/.exec(key.slice(stepsPrefix.length));
    return key.startsWith(stepsPrefix) && match ? Number(match[1]) : null;
  }

  /** The incarnation and step a key under a run's directory names, or null for any other key. */
  incarnationStepOf(run: RunKeys, key: string): { incarnation: string; step: number } | null {
    const match = /^([0-9a-f]{16})\/(\d{12})\.json$/.exec(key.slice(run.dir.length));
    return key.startsWith(run.dir) && match
      ? { incarnation: match[1] as string, step: Number(match[2]) }
      : null;
  }

  get markersPrefix(): string {
    return `${this.root}workflows/`;
  }

  marker(workflowId: string): string {
    return `${this.markersPrefix}${chunked(ascendingCode(workflowId))}`;
  }

  /** The workflow id a marker key names, or null for a key that is not a marker. */
  workflowOf(key: string): string | null {
    if (!key.startsWith(this.markersPrefix)) return null;
    try {
      return readAscending(key.slice(this.markersPrefix.length).replaceAll("/", ""));
    } catch {
      return null;
    }
  }

  /** The index of all runs of a workflow, or of those with one status. */
  indexPrefix(workflowSegment: string, status?: RunStatus): string {
    return `${this.root}index/${workflowSegment}/${status ?? "all"}/`;
  }

  order(createdAt: string, runId: string): string {
    return chunked(`${descendingCode(createdAt)}${descendingCode(runId)}`);
  }

  allEntry(workflowSegment: string, order: string, incarnation: string): string {
    return `${this.indexPrefix(workflowSegment)}${order}/${incarnation}`;
  }

  statusEntry(
    workflowSegment: string,
    status: RunStatus,
    order: string,
    incarnation: string,
    step: number,
  ): string {
    return `${this.statusEntriesOf(workflowSegment, status, order, incarnation)}${String(step).padStart(STEP_DIGITS, "0")}`;
  }

  /** Prefix of one incarnation's entries in one status index. */
  statusEntriesOf(
    workflowSegment: string,
    status: RunStatus,
    order: string,
    incarnation: string,
  ): string {
    return `${this.indexPrefix(workflowSegment, status)}${order}/${incarnation}-`;
  }

  /** StartAfter that skips every entry of the run at `order`. */
  pastRun(indexPrefix: string, order: string): string {
    return `${indexPrefix}${order}${PAST_RUN}`;
  }

  /** Reads an index entry's key; null for a key that is not one. */
  entryOf(indexPrefix: string, key: string): IndexEntry | null {
    if (!key.startsWith(indexPrefix)) return null;
    const rest = key.slice(indexPrefix.length);
    const slash = rest.lastIndexOf("/");
    const tail = /^([0-9a-f]{16})(?:-(\d{12}))?$/.exec(rest.slice(slash + 1));
    if (slash < 0 || !tail) return null;
    const order = rest.slice(0, slash);
    try {
      const code = order.replaceAll("/", "");
      const createdAt = readDescending(code);
      const runId = readDescending(code, createdAt.end);
      if (runId.end !== code.length) return null;
      // A run id no key can hold was never a run's (a key written by hand).
      keySegment(runId.value, "runId");
      return {
        key,
        order,
        createdAt: createdAt.value,
        runId: runId.value,
        incarnation: tail[1] as string,
        step: tail[2] === undefined ? null : Number(tail[2]),
      };
    } catch {
      return null;
    }
  }

  /** InvalidIdError if `key` is longer than S3 allows, blaming the ids that made it so. */
  assertFits(key: string, run: RunKeys): void {
    const bytes = Buffer.byteLength(key, "utf8");
    if (bytes > MAX_KEY_BYTES) {
      throw new InvalidIdError(
        "runId",
        run.runId,
        `with workflow id ${quoteId(run.workflowId)} and this prefix its keys would be ${bytes} bytes, more than S3's ${MAX_KEY_BYTES}`,
        "Use shorter ids, or a shorter prefix.",
      );
    }
  }
}

function chunked(code: string): string {
  if (code.length <= CHUNK) return code;
  const pieces: string[] = [];
  for (let at = 0; at < code.length; at += CHUNK) pieces.push(code.slice(at, at + CHUNK));
  return pieces.join("/");
}
