import { NotSerializableError } from "./errors.js";

function describe(value: unknown): string | null {
  switch (typeof value) {
    case "string":
    case "boolean":
      return null;
    case "number":
      return Number.isFinite(value) ? null : `the number ${value}`;
    case "undefined":
      return "undefined";
    case "bigint":
      return "a bigint";
    case "symbol":
      return "a symbol";
    case "function":
      return "a function";
  }
  if (value === null || Array.isArray(value)) return null;
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) return null;
  const name = (value as object).constructor?.name ?? "an object with a custom prototype";
  return `a ${name} instance`;
}

function childPath(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/**
 * Deepest nesting of objects and arrays a value may have, counted from the
 * root (`{ a: { b: 1 } }` is 2 deep). JSON.stringify and JSON.parse recurse,
 * so a deeper value could overflow the stack of whoever writes or reads it.
 */
export const MAX_JSON_DEPTH = 1000;

/** An own key of an object that JSON.stringify skips, or undefined when there is none. */
function hiddenKey(value: object, isArray: boolean): string | symbol | undefined {
  const keys = Reflect.ownKeys(value);
  // Arrays own their indices and "length"; objects their enumerable string keys.
  const expected = isArray ? (value as unknown[]).length + 1 : Object.keys(value).length;
  if (keys.length === expected) return undefined;
  for (const key of keys) {
    if (typeof key === "symbol") return key;
    if (isArray) {
      if (key !== "length" && String(Number(key)) !== key) return key;
    } else if (!Object.prototype.propertyIsEnumerable.call(value, key)) {
      return key;
    }
  }
  return undefined;
}

function hiddenKeyProblem(key: string | symbol, isArray: boolean): string {
  if (typeof key === "symbol") return "a symbol-keyed property, which JSON drops";
  return isArray
    ? "a named property of an array, which JSON drops"
    : "a non-enumerable property, which JSON drops";
}

function hiddenKeyPath(path: string, key: string | symbol): string {
  return typeof key === "symbol" ? `${path}[${String(key)}]` : childPath(path, key);
}

/**
 * Throws NotSerializableError naming the first value under `value` that JSON
 * would drop, change or refuse: functions, symbols, bigints, non-finite
 * numbers, class instances (Date, Map, …), undefined inside arrays, cycles,
 * symbol-keyed and non-enumerable properties, named properties of arrays,
 * and nesting deeper than MAX_JSON_DEPTH. What passes is exactly what JSON
 * keeps: `undefined` object properties are allowed, because JSON omits them,
 * which reads back the same way in JavaScript. Iterative, so deep nesting
 * cannot overflow the stack.
 */
export function assertJsonSerializable(value: unknown, rootPath = "shared"): void {
  const problem = describe(value);
  if (problem) throw new NotSerializableError(rootPath, problem);
  if (typeof value !== "object" || value === null) return;

  // Frames are entered once and left once, so `ancestors` holds exactly the
  // objects on the current path: a repeat there is a cycle, elsewhere it is
  // merely a shared reference that JSON duplicates harmlessly.
  const ancestors = new Set<object>();
  const stack: { value: object; path: string; depth: number; leave: boolean }[] = [
    { value, path: rootPath, depth: 1, leave: false },
  ];
  while (stack.length > 0) {
    const frame = stack.pop() as (typeof stack)[number];
    if (frame.leave) {
      ancestors.delete(frame.value);
      continue;
    }
    if (ancestors.has(frame.value)) {
      throw new NotSerializableError(frame.path, "a circular reference");
    }
    if (frame.depth > MAX_JSON_DEPTH) {
      throw new NotSerializableError(
        frame.path,
        `nested ${frame.depth} levels deep, more than the ${MAX_JSON_DEPTH} allowed`,
      );
    }
    ancestors.add(frame.value);
    stack.push({ ...frame, leave: true });
    const isArray = Array.isArray(frame.value);
    const hidden = hiddenKey(frame.value, isArray);
    if (hidden !== undefined) {
      throw new NotSerializableError(
        hiddenKeyPath(frame.path, hidden),
        hiddenKeyProblem(hidden, isArray),
      );
    }
    const entries: [string | number, unknown][] = isArray
      ? // Array.from visits holes of sparse arrays too (as undefined), where map skips them.
        Array.from(frame.value as unknown[], (item, index) => [index, item])
      : Object.entries(frame.value);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i] as [string | number, unknown];
      if (child === undefined && !isArray) continue;
      const path = childPath(frame.path, key);
      const childProblem = describe(child);
      if (childProblem) throw new NotSerializableError(path, childProblem);
      if (typeof child === "object" && child !== null) {
        stack.push({ value: child, path, depth: frame.depth + 1, leave: false });
      }
    }
  }
}
