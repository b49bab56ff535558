import { readFile } from "node:fs/promises";
import type { NormalisedJournal } from "./scenarios.js";

/** Golden journals live in the package's `golden/` folder, one file per scenario. */
export const GOLDEN_DIR = new URL("../golden/", import.meta.url);

export async function loadGolden(name: string): Promise<NormalisedJournal> {
  return JSON.parse(
    await readFile(new URL(`${name}.json`, GOLDEN_DIR), "utf8"),
  ) as NormalisedJournal;
}
