// Which steps are on the head's timeline, from the steps where branches start.
import { describe, expect, it } from "vitest";
import { timelineRanges } from "../src/run-reads.js";

describe("timelineRanges", () => {
  it("keeps every step of a run that was never resumed from an earlier step", () => {
    expect(timelineRanges(9, [])).toEqual([[0, 9]]);
  });

  it("drops the steps between a resume point and the branch that replaced them", () => {
    // 0-5, then resumed from 2 at step 6.
    expect(timelineRanges(7, [{ step: 6, parent: 2 }])).toEqual([
      [0, 2],
      [6, 7],
    ]);
  });

  it("follows nested resumes back through each branch's parent", () => {
    // 0-4; resumed from 1 at 5 (5-7); resumed from 6 at 8 (8-9); resumed from 3 at 10.
    const starts = [
      { step: 5, parent: 1 },
      { step: 8, parent: 6 },
      { step: 10, parent: 3 },
    ];
    expect(timelineRanges(9, starts)).toEqual([
      [0, 1],
      [5, 6],
      [8, 9],
    ]);
    expect(timelineRanges(11, starts)).toEqual([
      [0, 3],
      [10, 11],
    ]);
  });

  it("keeps a branch of one step, dropping what it replaced", () => {
    expect(timelineRanges(4, [{ step: 4, parent: 2 }])).toEqual([
      [0, 2],
      [4, 4],
    ]);
  });
});
