/**
 * "Identical on every adapter": each engine-level scenario (resume latest,
 * resume from k, fork from k, validation, human input across restarts,
 * failure and retry, a completed run extended) leaves a journal that,
 * normalised, equals the golden journal shipped with this package.
 */
import { describe, expect, it } from "vitest";
import { loadGolden } from "../golden.js";
import type { Harness } from "../harness.js";
import { SCENARIOS } from "../scenarios.js";

export function goldenSuite(h: Harness): void {
  describe("golden journals", () => {
    for (const [name, scenario] of Object.entries(SCENARIOS)) {
      it(`scenario "${name}" leaves exactly the golden journal`, async () => {
        const storage = await h.open();
        const result = await scenario({
          storage,
          restart: (store) => h.restart(store),
          workflowId: h.workflowId(name),
        });
        expect(result.journal).toEqual(await loadGolden(name));
      });
    }
  });
}
