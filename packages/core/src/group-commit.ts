/** One append waiting to be sent, with what bounds a group. */
export interface Queued {
  /** The run it appends to: a group holds at most one append per run. */
  runKey: string;
  /** Bytes of its record, for the group's byte bound. */
  bytes: number;
}

/** The outcome of one append of a group: undefined when it was stored, else why not. */
export type Outcome = Error | undefined;

export interface GroupLimits {
  /** Most sends (statements, script calls) in flight at once; appends arriving beyond that wait and then go together. */
  inFlight: number;
  /** Most appends in one send. */
  items: number;
  /** Most record bytes in one send (a single larger record still goes, alone). */
  bytes: number;
}

interface Waiting<T> {
  item: T;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Group commit without a timer. An append goes out at once, alone, while
 * fewer than `inFlight` sends are running, so a lone writer waits for
 * nothing. Appends that arrive while every slot is busy queue up, and when a
 * send finishes the queue goes out as one group: one statement or script
 * call, and one commit or sync, for many appends. `send` returns one outcome per item, in order, so
 * each append keeps its own check, result and error. Two appends to one run
 * never share a group, so a group behaves as the same appends sent one by one.
 */
export class GroupCommit<T extends Queued> {
  readonly #queue: Waiting<T>[] = [];
  readonly #limits: GroupLimits;
  readonly #send: (items: T[]) => Promise<Outcome[]>;
  #inFlight = 0;

  constructor(limits: GroupLimits, send: (items: T[]) => Promise<Outcome[]>) {
    this.#limits = limits;
    this.#send = send;
  }

  submit(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#inFlight < this.#limits.inFlight && this.#queue.length > 0) {
      const group = this.#take();
      this.#inFlight += 1;
      this.#send(group.map((waiting) => waiting.item))
        .then(
          (outcomes) => {
            group.forEach((waiting, i) => {
              const outcome = outcomes[i];
              if (outcome === undefined) waiting.resolve();
              else waiting.reject(outcome);
            });
          },
          (error: unknown) => {
            for (const waiting of group) waiting.reject(error);
          },
        )
        .finally(() => {
          this.#inFlight -= 1;
          this.#pump();
        });
    }
  }

  /** The oldest waiting appends that fit in one group, at most one per run, in arrival order. */
  #take(): Waiting<T>[] {
    const group: Waiting<T>[] = [];
    const runs = new Set<string>();
    let bytes = 0;
    for (let i = 0; i < this.#queue.length && group.length < this.#limits.items; ) {
      const waiting = this.#queue[i] as Waiting<T>;
      const fits = group.length === 0 || bytes + waiting.item.bytes <= this.#limits.bytes;
      if (!fits) break;
      if (runs.has(waiting.item.runKey)) {
        i += 1;
        continue;
      }
      runs.add(waiting.item.runKey);
      bytes += waiting.item.bytes;
      group.push(waiting);
      this.#queue.splice(i, 1);
    }
    return group;
  }
}
