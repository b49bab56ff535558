/** One line of a store's table. */
export interface Row {
  section: string;
  measure: string;
  value: string;
  /** "ok" or "FAIL" for rows that judge, empty for rows that only inform. */
  verdict: "ok" | "FAIL" | "";
}

/** Something that must not happen, with what is needed to look at it again. */
export interface Failure {
  section: string;
  /** The seed that replays it (`--seed`), or fast-check's seed for a property. */
  seed: string;
  detail: string;
}

/** What the sections found on one store: the rows of its table and its failures. */
export class StoreReport {
  readonly rows: Row[] = [];
  readonly failures: Failure[] = [];

  constructor(
    readonly title: string,
    readonly where: string,
  ) {}

  /** A row that only informs. */
  info(section: string, measure: string, value: string | number): void {
    this.rows.push({ section, measure, value: String(value), verdict: "" });
  }

  /** A row that judges: ok when `passed`. */
  judge(section: string, measure: string, value: string | number, passed: boolean): void {
    this.rows.push({ section, measure, value: String(value), verdict: passed ? "ok" : "FAIL" });
  }

  fail(section: string, seed: string | number, detail: string): void {
    this.failures.push({ section, seed: String(seed), detail });
  }

  get passed(): boolean {
    return this.failures.length === 0 && this.rows.every((row) => row.verdict !== "FAIL");
  }
}
