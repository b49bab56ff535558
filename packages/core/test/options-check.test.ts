// checkOptions and maskPassword, the checks every store's constructor shares,
// and MemoryStorage refusing what it does not know.
import { describe, expect, it } from "vitest";
import { checkFromUrlOptions, checkOptions, maskPassword } from "../src/adapter-kit.js";
import { MemoryStorage } from "../src/index.js";

describe("checkOptions", () => {
  it("passes known keys and undefined", () => {
    expect(() => checkOptions("Store", { a: 1 }, ["a", "b"])).not.toThrow();
    expect(() => checkOptions("Store", undefined, ["a"])).not.toThrow();
  });

  it("refuses unknown keys with a TypeError naming each of them and the known ones", () => {
    expect(() => checkOptions("Store", { a: 1, schemaName: "x", prefx: "y" }, ["a", "b"])).toThrow(
      new TypeError('Store does not know the options "schemaName", "prefx"; it takes a, b.'),
    );
  });

  it("refuses an unknown key even when its value is undefined", () => {
    expect(() => checkOptions("Store", { prefx: undefined }, ["prefix"])).toThrow(/"prefx"/);
  });

  it("refuses a string, pointing at fromUrl and the adapter's URL option, with the password masked", () => {
    expect(() => checkOptions("Store", "redis://u:secret@h:6390/5", ["url", "prefix"])).toThrow(
      new TypeError(
        'Store takes an options object, not a string ("redis://u:***@h:6390/5"): use Store.fromUrl(url) or { url: url }.',
      ),
    );
    expect(() => checkOptions("Store", "./logs", ["dir"])).toThrow(
      'Store takes an options object, not a string ("./logs"): use Store.fromUrl(url).',
    );
  });

  it.each([null, 5, true, ["a"]])("refuses %j where an options object belongs", (given) => {
    expect(() => checkOptions("Store", given, ["a"])).toThrow(TypeError);
  });
});

describe("maskPassword", () => {
  it.each([
    ["postgres://user:secret@host:5432/db", "postgres://user:***@host:5432/db"],
    ["redis://:secret@host/2", "redis://:***@host/2"],
    ["redis://host:6379", "redis://host:6379"],
    ["not a url //user:secret@host", "not a url //user:***@host"],
    ["mysql:u:secret@host", "mysql:***@host"],
    ["u:secret@host:5432", "u:***@host:5432"],
  ])("masks %s as %s", (url, masked) => {
    expect(maskPassword(url)).toBe(masked);
  });
});

describe("MemoryStorage options", () => {
  it("refuses an unknown option naming it", () => {
    expect(() => new MemoryStorage({ ttl: 5 } as never)).toThrow(
      new TypeError('MemoryStorage does not know the option "ttl"; it takes ttlSeconds, data.'),
    );
  });

  it("refuses a string instead of options", () => {
    expect(() => new MemoryStorage("memory:" as never)).toThrow(
      new TypeError('MemoryStorage takes an options object, not a string ("memory:").'),
    );
  });
});

describe("checkFromUrlOptions", () => {
  it("refuses an option the URL already sets, masking the URL's password", () => {
    expect(() =>
      checkFromUrlOptions(
        "Store",
        "x://u:pw@h/?prefix=a",
        { prefix: "b" },
        ["prefix", "ttl"],
        ["prefix"],
      ),
    ).toThrow(
      new TypeError(
        'Store.fromUrl: "x://u:***@h/?prefix=a" already sets `prefix`; give it in the URL or in the options, not both.',
      ),
    );
  });

  it("passes options the URL does not set, and refuses unknown ones", () => {
    expect(() =>
      checkFromUrlOptions("Store", "x:", { ttl: 1 }, ["prefix", "ttl"], ["prefix"]),
    ).not.toThrow();
    expect(() => checkFromUrlOptions("Store", "x:", { tl: 1 }, ["prefix", "ttl"], [])).toThrow(
      'Store.fromUrl does not know the option "tl"',
    );
  });
});
