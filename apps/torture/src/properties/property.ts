import fc from "fast-check";
import { assertUnchanged, type HostileContext, removeStrays } from "./context.js";

/** One hostile-input property: values to draw, and what must hold for each on a store. */
export interface HostileProperty<T> {
  name: string;
  /** What it asserts, as a sentence. */
  claim: string;
  arbitrary(context: HostileContext): fc.Arbitrary<T>;
  /** Throws a Violation (or anything) when the case breaks the property. */
  check(context: HostileContext, value: T): Promise<void>;
}

/**
 * The fast-check property: the case's own check, then nothing outside its
 * scratch workflow changed. A failing case's strays are removed after it.
 */
export function asProperty<T>(
  property: HostileProperty<T>,
  context: HostileContext,
): fc.IAsyncProperty<[T]> {
  return fc.asyncProperty(property.arbitrary(context), async (value) => {
    try {
      await property.check(context, value);
      await assertUnchanged(context);
    } catch (error) {
      await removeStrays(context);
      throw error;
    }
  });
}
