// GroupCommit of the adapter kit: a lone append goes at once; appends arriving while every
// slot is busy go together, at most one per run and within the limits, each with its own outcome.
import { describe, expect, it } from "vitest";
import { GroupCommit, type Outcome } from "../src/adapter-kit.js";

interface Item {
  runKey: string;
  bytes: number;
  id: string;
}

/** A GroupCommit whose sends wait until the test releases them, recording each group. */
function held(limits = { inFlight: 1, items: 10, bytes: 1_000 }) {
  const groups: string[][] = [];
  const releases: ((outcomes: Outcome[]) => void)[] = [];
  const commit = new GroupCommit<Item>(limits, (items) => {
    groups.push(items.map((item) => item.id));
    return new Promise<Outcome[]>((resolve) => releases.push(resolve));
  });
  const submit = (id: string, runKey = id, bytes = 10) => commit.submit({ id, runKey, bytes });
  return { groups, releases, submit };
}

const settle = (promise: Promise<void>) =>
  promise.then(
    () => "stored",
    (error: Error) => error.message,
  );

describe("GroupCommit", () => {
  it("sends a lone append at once, and the appends that queued behind it as one group", async () => {
    const { groups, releases, submit } = held();
    const first = settle(submit("a"));
    expect(groups).toEqual([["a"]]);
    const queued = ["b", "c", "d"].map((id) => settle(submit(id)));
    expect(groups).toEqual([["a"]]);
    releases[0]?.([undefined]);
    await first;
    await Promise.resolve();
    expect(groups).toEqual([["a"], ["b", "c", "d"]]);
    releases[1]?.([undefined, new Error("conflict on c"), undefined]);
    expect(await Promise.all(queued)).toEqual(["stored", "conflict on c", "stored"]);
  });

  it("never puts two appends of one run in a group, and keeps arrival order per run", async () => {
    const { groups, releases, submit } = held();
    void submit("first");
    const rest = [submit("x1", "x"), submit("y1", "y"), submit("x2", "x"), submit("z1", "z")];
    releases[0]?.([undefined]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(groups[1]).toEqual(["x1", "y1", "z1"]);
    releases[1]?.([undefined, undefined, undefined]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(groups[2]).toEqual(["x2"]);
    releases[2]?.([undefined]);
    await Promise.all(rest);
  });

  it("bounds a group by items and bytes; a record larger than the byte bound goes alone", async () => {
    const { groups, releases, submit } = held({ inFlight: 1, items: 2, bytes: 100 });
    void submit("first");
    const rest = [
      submit("a", "a", 40),
      submit("b", "b", 40),
      submit("c", "c", 40),
      submit("big", "big", 500),
      submit("d", "d", 10),
    ];
    for (let round = 0; round < 5; round++) {
      releases[round]?.(groups[round]?.map(() => undefined) ?? []);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    expect(groups).toEqual([["first"], ["a", "b"], ["c"], ["big"], ["d"]]);
    await Promise.all(rest);
  });

  it("a send that rejects fails every append of its group, and the next group still goes", async () => {
    const groups: string[][] = [];
    let calls = 0;
    const commit = new GroupCommit<Item>(
      { inFlight: 1, items: 10, bytes: 1_000 },
      async (items) => {
        groups.push(items.map((item) => item.id));
        calls += 1;
        if (calls === 2) throw new Error("server went away");
        return items.map(() => undefined);
      },
    );
    const submit = (id: string) => settle(commit.submit({ id, runKey: id, bytes: 1 }));
    const results = await Promise.all([submit("a"), submit("b"), submit("c")]);
    expect(results).toEqual(["stored", "server went away", "server went away"]);
    expect(await submit("d")).toBe("stored");
    expect(groups).toEqual([["a"], ["b", "c"], ["d"]]);
  });
});
