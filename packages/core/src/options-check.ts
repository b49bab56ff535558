/**
 * Checks of what a store's constructor is given, shared by every adapter so
 * that a mistyped option or a URL where an options object belongs is refused
 * alike everywhere: in plain JavaScript nothing else would notice, and the
 * data would go to a default schema, prefix or server instead.
 */

/**
 * Refuses, with a TypeError naming them, option keys `name` does not know,
 * and anything but a plain object (`undefined` passes: the caller applies
 * its defaults). A string gets a hint to use `fromUrl(url)` (unless
 * `hasFromUrl` is false), or the adapter's own URL option when it has one
 * (`url`, `connectionString`).
 */
export function checkOptions(
  name: string,
  given: unknown,
  knownKeys: readonly string[],
  hasFromUrl = true,
): asserts given is object | undefined {
  if (given === undefined) return;
  if (typeof given === "string") {
    const urlOption = knownKeys.find((key) => key === "url" || key === "connectionString");
    const hints = [
      ...(hasFromUrl ? [`${name}.fromUrl(url)`] : []),
      ...(urlOption ? [`{ ${urlOption}: url }`] : []),
    ];
    throw new TypeError(
      `${name} takes an options object, not a string (${JSON.stringify(maskPassword(given))})${
        hints.length > 0 ? `: use ${hints.join(" or ")}` : ""
      }.`,
    );
  }
  if (typeof given !== "object" || given === null || Array.isArray(given)) {
    throw new TypeError(
      `${name} takes an options object, got ${given === null ? "null" : Array.isArray(given) ? "an array" : typeof given}.`,
    );
  }
  const unknown = Object.keys(given).filter((key) => !knownKeys.includes(key));
  if (unknown.length > 0) {
    throw new TypeError(
      `${name} does not know the option${unknown.length > 1 ? "s" : ""} ${unknown
        .map((key) => JSON.stringify(key))
        .join(", ")}; it takes ${knownKeys.join(", ")}.`,
    );
  }
}

/**
 * `url` with the password of its user info replaced by `***`, for messages:
 * a connection string in an error or a log must never reveal it. Text that
 * is not a URL has every `…:password@` in it masked, so a malformed URL
 * does not leak its password either.
 */
export function maskPassword(url: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed && parsed.password !== "") {
    parsed.password = "***";
    return parsed.href;
  }
  // Not a URL, or one whose user info the parser did not see (`mysql:u:pw@h`).
  return url.replace(/([^\s/?#@:]*:)[^\s/?#@]+@/g, "$1***@");
}

/**
 * The checks of `Store.fromUrl(url, options)`: `options` as `checkOptions`
 * has them, and none of `namedByUrl` (the options this URL already sets) in
 * it too, since one of the two would be silently ignored.
 */
export function checkFromUrlOptions(
  name: string,
  url: string,
  options: unknown,
  knownKeys: readonly string[],
  namedByUrl: readonly string[],
): asserts options is object | undefined {
  checkOptions(`${name}.fromUrl`, options, knownKeys, false);
  const twice = namedByUrl.filter(
    (key) => (options as Record<string, unknown> | undefined)?.[key] !== undefined,
  );
  if (twice.length > 0) {
    throw new TypeError(
      `${name}.fromUrl: ${JSON.stringify(maskPassword(url))} already sets ${twice
        .map((key) => `\`${key}\``)
        .join(
          ", ",
        )}; give ${twice.length > 1 ? "them" : "it"} in the URL or in the options, not both.`,
    );
  }
}
