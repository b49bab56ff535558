import type { Writable } from "node:stream";

/** A stream `wf` writes to; a terminal has `isTTY` and `columns`. */
export type OutputStream = Writable & { isTTY?: boolean; columns?: number };

export type Colour = "bold" | "dim" | "red" | "green" | "yellow" | "cyan" | "magenta";

const ANSI: Record<Colour, [number, number]> = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
  magenta: [35, 39],
};

/** The colour a run or node status is shown in. */
export const STATUS_COLOUR: Record<string, Colour> = {
  completed: "green",
  running: "cyan",
  waiting_for_input: "yellow",
  waiting: "yellow",
  failed: "red",
  // Apart from failed (red): a cancel is a decision, not a fault.
  cancelled: "magenta",
};

export interface Column {
  header: string;
  /** Right-aligned (numbers). */
  right?: boolean;
  /** The column that gives up width first when the table is wider than the terminal. */
  shrink?: boolean;
}

/** One cell: its text, and the colour it is shown in on a terminal. */
export type Cell = string | { text: string; colour: Colour };

/** Writes what a command prints: tables and text for people, JSON for scripts. */
export class Output {
  readonly colour: boolean;

  constructor(
    readonly stdout: OutputStream,
    readonly stderr: OutputStream,
    env: Record<string, string | undefined>,
    options: { colour?: boolean } = {},
  ) {
    // Colour only on a terminal, never with NO_COLOR (any value: no-color.org), and not with --no-color.
    this.colour = options.colour !== false && stdout.isTTY === true && (env.NO_COLOR ?? "") === "";
  }

  paint(text: string, colour: Colour): string {
    if (!this.colour) return text;
    const [open, close] = ANSI[colour];
    return `\u001b[${open}m${text}\u001b[${close}m`;
  }

  line(text = ""): void {
    this.stdout.write(`${text}\n`);
  }

  /** A note for people on stderr, so stdout stays clean for pipes. */
  note(text: string): void {
    this.stderr.write(`${text}\n`);
  }

  json(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** A table fitted to the terminal's width; not cut when stdout is not a terminal. */
  table(columns: readonly Column[], rows: readonly (readonly Cell[])[]): void {
    const texts = rows.map((row) =>
      row.map((cell) => oneLine(typeof cell === "string" ? cell : cell.text)),
    );
    const widths = columns.map((column, i) =>
      Math.max(column.header.length, ...texts.map((row) => (row[i] ?? "").length)),
    );
    fitWidths(widths, columns, this.stdout.isTTY ? this.stdout.columns : undefined);
    const render = (cells: readonly string[], colours: readonly (Colour | null)[]) =>
      cells
        .map((text, i) => {
          const width = widths[i] ?? 0;
          const cut = text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text;
          const padded = columns[i]?.right ? cut.padStart(width) : cut.padEnd(width);
          const colour = colours[i];
          return colour ? this.paint(padded, colour) : padded;
        })
        .join("  ")
        .trimEnd();
    this.line(
      render(
        columns.map((column) => column.header),
        columns.map(() => "bold"),
      ),
    );
    rows.forEach((row, r) => {
      const colours = row.map((cell) => (typeof cell === "string" ? null : cell.colour));
      this.line(render(texts[r] ?? [], colours));
    });
  }
}

/** Table cells are one line: control characters from the journal must not move the cursor. */
function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to replace them.
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, " ");
}

/** Journal text printed for people: line breaks kept, every other control character shown as a space. */
export function plainText(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to replace them.
  return text.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, " ");
}

/** Narrows the shrinkable columns (then the widest) until the row fits `total` characters. */
function fitWidths(widths: number[], columns: readonly Column[], total: number | undefined): void {
  if (!total || total <= 0) return;
  const gaps = 2 * (widths.length - 1);
  let excess = widths.reduce((sum, width) => sum + width, 0) + gaps - total;
  const order = columns
    .map((column, i) => ({ i, shrink: column.shrink === true }))
    .sort((a, b) => Number(b.shrink) - Number(a.shrink) || (widths[b.i] ?? 0) - (widths[a.i] ?? 0));
  for (const { i } of order) {
    if (excess <= 0) return;
    const minimum = Math.min(widths[i] ?? 0, Math.max(columns[i]?.header.length ?? 0, 8));
    const give = Math.min(excess, (widths[i] ?? 0) - minimum);
    widths[i] = (widths[i] ?? 0) - give;
    excess -= give;
  }
}

/** A time as people read it in a table: `2026-11-28 23:40:12` (UTC). */
export function shortTime(iso: string): string {
  return iso.replace("T", " ").replace(/\.\d+Z$|Z$/, "");
}
