import fc from "fast-check";
import { describe, it } from "vitest";
import { closeContext, openContext } from "../src/properties/context.js";
import { asProperty, type HostileProperty } from "../src/properties/property.js";
import { deriveSeed, newSeed } from "../src/random.js";
import { provisionTarget, type StoreTarget } from "../src/target.js";

/**
 * Cases per store in `npm test`: a few, so the whole file stays well under a
 * minute; `npm run torture` runs the same properties with hundreds. The S3
 * test server answers each request in milliseconds and a case makes a
 * hundred or more, hence fewer there.
 */
const CASES: Record<StoreTarget["kind"], number> = {
  memory: 30,
  fs: 20,
  postgres: 20,
  redis: 20,
  s3: 6,
};

/** WF_TORTURE_SEED replays a run of the tests; without it each run draws new cases. */
const SEED = process.env.WF_TORTURE_SEED ? Number(process.env.WF_TORTURE_SEED) : newSeed();

/**
 * One test per store, run concurrently (the stores are other processes, or
 * I/O): the property holds for a few random cases. The in-memory reference
 * store runs it too, which shows the property asks nothing the contract
 * does not. Each test prints its fast-check seed; a failure also prints the
 * shrunk counterexample and its path.
 */
export function hostileTests(property: HostileProperty<unknown>): void {
  describe.concurrent(`${property.name}: ${property.claim}`, () => {
    for (const kind of Object.keys(CASES) as StoreTarget["kind"][]) {
      it(`holds on ${kind}`, async () => {
        const seed = deriveSeed(SEED, "hostile", kind, property.name);
        console.info(
          `${property.name} on ${kind}: fast-check seed ${seed} (WF_TORTURE_SEED=${SEED} replays the file)`,
        );
        const target = await provisionTarget(kind, `test-${property.name}`);
        try {
          const context = await openContext(target);
          try {
            await fc.assert(asProperty(property, context), { numRuns: CASES[kind], seed });
          } finally {
            await closeContext(context);
          }
        } finally {
          await target.dispose();
        }
      });
    }
  });
}
