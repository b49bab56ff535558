/**
 * `target` with some properties replaced. A Proxy rather than a prototype
 * copy, and methods bound to `target`: classes with `#private` fields (stores,
 * user nodes) reject any other `this`.
 */
export function overriding<T extends object>(
  target: T,
  overrides: Partial<Record<keyof T, unknown>>,
): T {
  return new Proxy(target, {
    get(object, property) {
      if (Object.hasOwn(overrides, property)) return overrides[property as keyof T];
      const value: unknown = Reflect.get(object, property, object);
      return typeof value === "function" ? value.bind(object) : value;
    },
  });
}
