import type { StepRecord, WorkflowStorage } from "@wf/core";

/**
 * Reads a run's stored records one at a time, fetching them a page at a
 * time: at most one page is held, and a record is let go as soon as it has
 * been handed out. Stops after step `through`, so a run that grows while it
 * is read is read as it was when it was listed.
 */
export class StepReader {
  #page: (StepRecord | undefined)[] = [];
  #index = 0;
  #cursor: string | null = null;
  #exhausted = false;

  constructor(
    private readonly store: WorkflowStorage,
    private readonly workflowId: string,
    private readonly runId: string,
    private readonly through: number,
    private readonly pageSize: number,
  ) {}

  /** The next record, or undefined after step `through` or the last stored step. */
  async next(): Promise<StepRecord | undefined> {
    while (this.#index >= this.#page.length) {
      if (this.#exhausted) return undefined;
      // Drop the spent page before the next one arrives.
      this.#page = [];
      const page = await this.store.listSteps(this.workflowId, this.runId, {
        cursor: this.#cursor,
        limit: this.pageSize,
      });
      this.#page = page.items;
      this.#index = 0;
      this.#cursor = page.nextCursor;
      this.#exhausted = page.nextCursor === null;
    }
    const record = this.#page[this.#index];
    this.#page[this.#index] = undefined;
    this.#index += 1;
    if (record === undefined || record.step > this.through) {
      this.#exhausted = true;
      this.#page = [];
      return undefined;
    }
    return record;
  }
}
