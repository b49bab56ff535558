// The inspector in Debian's Chromium (playwright-core, never a downloaded
// browser), against a FileSystemStorage and against PostgreSQL: the runs
// list, a fork compared with its source, keyboard navigation, graph colours,
// the diff, answering a question live, forking, cancelling, XSS,
// cross-origin writes, and the time to open a run of 100,000 steps.
import { mkdir } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { WorkflowEngine } from "@wf/core";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Inspector, startInspector } from "../src/index.js";
import {
  incompatibleDefinition,
  REVIEW,
  reviewDefinition,
  XSS_TITLE,
} from "./fixtures/review-workflow.js";
import { BIG, LEGACY, type SeededRuns, seedBigRun, seedReviewRuns } from "./fixtures/seed.js";
import { fileSystemStore, postgresStore, type TestStore } from "./fixtures/stores.js";

/**
 * Steps of the big run: 100,000 on the file system. PostgreSQL appends one
 * transaction per step (about 7 ms here), so 100,000 would take twelve
 * minutes to seed; it gets 10,000 unless WF_INSPECTOR_PG_BIG_STEPS says more.
 */
const BIG_STEPS: Record<string, number> = {
  FileSystemStorage: Number(process.env.WF_INSPECTOR_BIG_STEPS ?? 100_000),
  PostgresStorage: Number(process.env.WF_INSPECTOR_PG_BIG_STEPS ?? 10_000),
};
const BIG_RUN = "big_run_100k";
const OUTPUT = join(import.meta.dirname, "..", "test-output");

describe.each([
  ["FileSystemStorage", fileSystemStore],
  ["PostgresStorage", postgresStore],
])("the inspector in Chromium, on %s", (name, makeStore) => {
  const bigSteps = BIG_STEPS[name] as number;
  let store: TestStore;
  let runs: SeededRuns;
  let inspector: Inspector;
  let browser: Browser;
  let page: Page;
  const dialogs: string[] = [];
  const pageErrors: string[] = [];
  const shots = join(OUTPUT, name);
  let base = "";

  const shoot = (file: string) => page.screenshot({ path: join(shots, file), fullPage: false });
  const open = async (path: string) => {
    await page.goto(`${base}${path}`);
  };
  const selectedStep = () => page.getByTestId("selected-step");
  const row = (step: number) =>
    page.locator(`.timeline-scroll .step-row[data-step="${step}"]`).first();

  beforeAll(async () => {
    await mkdir(shots, { recursive: true });
    store = await makeStore();
    runs = await seedReviewRuns(store.storage);
    const seeded = Date.now();
    await seedBigRun(store.storage, BIG_RUN, bigSteps);
    console.log(
      `[${name}] appended the ${bigSteps.toLocaleString("en")}-step run in ${Date.now() - seeded} ms`,
    );
    inspector = await startInspector({
      storage: store.storage,
      definitions: [reviewDefinition(), incompatibleDefinition(LEGACY)],
      port: 0,
    });
    base = `http://127.0.0.1:${inspector.port}`;
    browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
    page = await browser.newPage({ viewport: { width: 1440, height: 960 } });
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on("pageerror", (error) => pageErrors.push(error.message));
    // The address the inspector prints: it carries the token, which the page keeps out of the address bar.
    await page.goto(inspector.url);
    await page.waitForURL(`${base}/`);
  }, 1_800_000);

  afterAll(async () => {
    await browser?.close();
    await inspector?.close();
    await store?.destroy();
  });

  it("lists the workflows, then the runs with their status and counts per status", async () => {
    await page.getByRole("link", { name: REVIEW, exact: true }).click();
    await expect.poll(() => page.url()).toBe(`${base}/w/${REVIEW}`);
    for (const runId of [runs.completed, runs.resumed, runs.fork, runs.waiting, runs.failed]) {
      await page.locator(`tr[data-run="${runId}"]`).waitFor();
    }
    await expect.poll(() => page.getByTestId("count-all").textContent()).toBe("5");
    expect(await page.getByTestId("count-completed").textContent()).toBe("2");
    expect(await page.getByTestId("count-waiting_for_input").textContent()).toBe("2");
    expect(await page.getByTestId("count-failed").textContent()).toBe("1");
    expect(await page.locator(`tr[data-run="${runs.fork}"]`).textContent()).toContain(
      `${runs.completed} @ 2`,
    );
    await shoot("runs.png");
    await page.getByRole("button", { name: /^failed/ }).click();
    await expect.poll(() => page.locator("tbody tr").count()).toBe(1);
    expect(await page.locator("tbody tr").getAttribute("data-run")).toBe(runs.failed);
  });

  it("opens the fork and compares it with its source, aligned at the fork point", async () => {
    await open(`/w/${REVIEW}`);
    await page.locator(`tr[data-run="${runs.fork}"] a`).first().click();
    await page.getByText(`Forked from`).waitFor();
    await row(2).getByText("fork point").waitFor();
    await page.getByRole("link", { name: "Compare with source" }).click();
    await page.getByTestId("compare-diff").waitFor();
    expect(page.url()).toBe(`${base}/w/${REVIEW}/compare/${runs.completed}/${runs.fork}?sa=2&sb=2`);
    // At the fork point the two states are the same.
    await page.getByTestId("compare-diff").getByTestId("diff-empty").waitFor();
    await page.getByTestId(`timeline-${runs.completed}`).locator('[data-step="3"]').click();
    await expect.poll(() => page.url()).toMatch(/\?sa=3&sb=2$/);
    await page.getByTestId(`timeline-${runs.fork}`).locator('[data-step="3"]').click();
    await expect.poll(() => page.url()).toMatch(/\?sa=3&sb=3$/);
    const diff = page.getByTestId("compare-diff").getByTestId("diff");
    await expect.poll(() => diff.textContent()).toMatch(/verdict.*"approve".*→.*"revise"/);
    await shoot("compare.png");
  });

  it("compares any two runs of a workflow, chosen from a run", async () => {
    await open(`/w/${REVIEW}/r/${runs.completed}/s/4`);
    await page.getByLabel("Compare with run").fill(runs.resumed);
    await page.getByRole("button", { name: "Compare", exact: true }).click();
    await expect
      .poll(() => page.url())
      .toBe(`${base}/w/${REVIEW}/compare/${runs.completed}/${runs.resumed}?sa=4`);
    // B defaults to its head (step 7), whose state equals A's at step 4.
    await page.getByTestId("compare-diff").getByTestId("diff-empty").waitFor();
    await page.getByTestId(`timeline-${runs.resumed}`).locator('[data-step="5"]').click();
    const diff = page.getByTestId("compare-diff").getByTestId("diff");
    await expect.poll(() => diff.textContent()).toMatch(/removed\s*published/);
  });

  it("steps through the timeline with the keyboard, with a deep link for every step", async () => {
    await open(`/w/${REVIEW}/r/${runs.completed}/s/0`);
    await expect.poll(() => selectedStep().textContent()).toBe("step 0 / 4");
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowRight");
    await expect.poll(() => selectedStep().textContent()).toBe("step 2 / 4");
    expect(page.url()).toBe(`${base}/w/${REVIEW}/r/${runs.completed}/s/2`);
    await page.keyboard.press("ArrowLeft");
    await expect.poll(() => selectedStep().textContent()).toBe("step 1 / 4");
  });

  it("colours the graph by node status at the selected step, with conditional edges apart, and shows the diff", async () => {
    await open(`/w/${REVIEW}/r/${runs.completed}/s/2`);
    const status = (node: string) =>
      page.locator(`.graph-node[data-node="${node}"]`).getAttribute("data-status");
    await expect.poll(() => status("Review")).toBe("waiting");
    expect(await status("Draft")).toBe("completed");
    expect(await status("Publish")).toBe("not-run");
    // Edges are drawn once the nodes are measured.
    await expect.poll(() => page.locator(".react-flow__edge.edge-conditional").count()).toBe(2);
    expect(await page.locator(".react-flow__edge.edge-plain").count()).toBe(2);
    expect(
      await page.locator(".react-flow__edge.edge-conditional path").first().getAttribute("style"),
    ).toContain("stroke-dasharray");
    await page.getByTestId("question").getByText("Approve the draft?").waitFor();
    await page.keyboard.press("ArrowRight");
    await expect.poll(() => status("Review")).toBe("completed");
    expect(await page.getByTestId("diff").textContent()).toMatch(/added\s*verdict\s*"approve"/);
    await page.keyboard.press("ArrowRight");
    await expect.poll(() => status("Publish")).toBe("completed");
    await shoot("run.png");
  });

  it("shows the branch a resume superseded, and the branch that replaced it", async () => {
    await open(`/w/${REVIEW}/r/${runs.resumed}`);
    await expect.poll(() => row(4).getAttribute("data-superseded")).toBe("true");
    for (const step of [3, 5]) expect(await row(step).getAttribute("data-superseded")).toBe("true");
    for (const step of [2, 6, 7])
      expect(await row(step).getAttribute("data-superseded")).toBeNull();
    expect(await row(6).textContent()).toContain("from #2");
    await shoot("superseded.png");
  });

  it("renders a journal string that looks like HTML as text", async () => {
    await open(`/w/${REVIEW}/r/${runs.completed}/s/1`);
    await page.getByTestId("state-tree").getByText(`"${XSS_TITLE}"`).waitFor();
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(dialogs).toEqual([]);
  });

  it("shows a failed step's error with its stack", async () => {
    await open(`/w/${REVIEW}/r/${runs.failed}`);
    const error = page.getByTestId("step-error");
    await error.waitFor();
    expect(await error.textContent()).toContain("the draft could not be written");
    expect(await error.locator(".stack").textContent()).toMatch(/at .*execute/);
  });

  it("answers the pending question and the run continues live", async () => {
    await open(`/w/${REVIEW}/r/${runs.waiting}`);
    await expect.poll(() => selectedStep().textContent()).toBe("step 2 / 2");
    await page.getByTestId("answer-form").getByRole("button", { name: "approve" }).click();
    await expect.poll(() => selectedStep().textContent()).toBe("step 4 / 4");
    await page.getByTestId("tt-message").waitFor();
    const stored = await store.storage.getRun(REVIEW, runs.waiting);
    expect(stored).toMatchObject({ status: "completed", headStep: 4 });
    expect((await store.storage.getStep(REVIEW, runs.waiting, 3)).inputs).toEqual({
      Review: "approve",
    });
  });

  it("follows a run another process advances, and the status counts, without a reload", async () => {
    await open(`/w/${REVIEW}`);
    await expect.poll(() => page.getByTestId("count-all").textContent()).toBe("5");
    const engine = await WorkflowEngine.create({ ...reviewDefinition(), storage: store.storage });
    await expect.poll(() => page.getByTestId("count-all").textContent()).toBe("6");
    await expect.poll(() => page.getByTestId("count-running").textContent()).toBe("1");
    await page.locator(`tr[data-run="${engine.runId}"] a`).first().click();
    await expect.poll(() => selectedStep().textContent()).toBe("step 0 / 0");
    await engine.run();
    // The page followed the head: no reload happened, the same document grew.
    await expect.poll(() => selectedStep().textContent()).toBe("step 2 / 2");
    await page.getByTestId("question").waitFor();
    await engine.run({ Review: "revise" });
    await expect.poll(() => selectedStep().textContent()).toBe("step 5 / 5");
    await row(4).waitFor();
    await shoot("live.png");
  });

  it("forks from a step and opens the new run", async () => {
    await open(`/w/${REVIEW}/r/${runs.completed}/s/1`);
    await expect.poll(() => selectedStep().textContent()).toBe("step 1 / 4");
    await page.getByRole("button", { name: "Fork from this step" }).click();
    await page.getByText("Forked from").waitFor();
    const match = /\/r\/([^/]+)$/.exec(page.url());
    expect(match?.[1]).toBeDefined();
    expect(match?.[1]).not.toBe(runs.completed);
    const fork = await store.storage.getRun(REVIEW, match?.[1] as string);
    expect(fork.forkedFrom).toEqual({ runId: runs.completed, step: 1 });
  });

  it("shows a refused resume as Cannot resume", async () => {
    await open(`/w/${LEGACY}/r/${runs.legacy}/s/1`);
    await page.getByRole("button", { name: "Step", exact: true }).click();
    const refusal = page.locator(".notice.refused");
    await refusal.waitFor();
    expect(await refusal.textContent()).toMatch(/Refused\. Cannot resume:/);
    await shoot("refused.png");
    expect((await store.storage.getRun(LEGACY, runs.legacy)).headStep).toBe(2);
  });

  it("refuses a cross-origin POST, even one that knows the token", async () => {
    const evil: Server = createServer((_request, response) => {
      response.setHeader("content-type", "text/html");
      response.end("<!doctype html><title>elsewhere</title>");
    });
    await new Promise<void>((resolve) => evil.listen(0, "127.0.0.1", resolve));
    try {
      const before = await store.storage.getRun(REVIEW, runs.fork);
      await page.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
      const target = `${base}/api/workflows/${REVIEW}/runs/${runs.fork}/actions`;
      const outcomes = await page.evaluate(
        async ({ target, token }) => {
          const body = JSON.stringify({
            action: "answer",
            step: 5,
            requestId: "Review",
            answer: "approve",
          });
          const results: string[] = [];
          try {
            // A simple request (no preflight): the token cannot be sent this way, the Origin is refused.
            const response = await fetch(target, {
              method: "POST",
              mode: "no-cors",
              body,
              headers: { "content-type": "text/plain" },
            });
            results.push(`no-cors:${response.type}`);
          } catch (error) {
            results.push(`no-cors:${String(error)}`);
          }
          try {
            await fetch(target, {
              method: "POST",
              body,
              headers: { "content-type": "application/json", "x-wf-token": token },
            });
            results.push("cors:sent");
          } catch {
            results.push("cors:blocked");
          }
          return results;
        },
        { target, token: inspector.token },
      );
      // The simple request may reach the server (which refuses it) or be cut by the browser; the
      // one with the token needs a preflight the inspector never grants, so it is never sent.
      expect(outcomes[0]).toMatch(/^no-cors:/);
      expect(outcomes[1]).toBe("cors:blocked");
      expect(await store.storage.getRun(REVIEW, runs.fork)).toEqual(before);
    } finally {
      await new Promise<void>((resolve) => evil.close(() => resolve()));
    }
  });

  it("cancels a waiting run after asking, marks the cancel step, and lists the run as cancelled", async () => {
    const engine = await WorkflowEngine.create({ ...reviewDefinition(), storage: store.storage });
    await engine.run();
    await open(`/w/${REVIEW}/r/${engine.runId}`);
    await expect.poll(() => selectedStep().textContent()).toBe("step 2 / 2");
    await page.getByRole("button", { name: "Cancel run…" }).click();
    // Asked first, in the page: nothing is written until the cancel is confirmed.
    const confirm = page.getByTestId("cancel-confirm");
    await confirm.waitFor();
    expect((await store.storage.getRun(REVIEW, engine.runId)).status).toBe("waiting_for_input");
    await page.getByRole("button", { name: "Keep it" }).click();
    await confirm.waitFor({ state: "detached" });
    await page.getByRole("button", { name: "Cancel run…" }).click();
    await page.getByLabel("Reason for cancelling").fill("customer <b>withdrew</b>");
    await page.getByRole("button", { name: "Cancel the run" }).click();
    await expect.poll(() => selectedStep().textContent()).toBe("step 3 / 3");
    await expect.poll(() => page.locator(".run-title .badge").textContent()).toBe("cancelled");
    // The cancel button is gone: a cancelled run cannot be cancelled again.
    expect(await page.getByRole("button", { name: "Cancel run…" }).count()).toBe(0);
    await expect
      .poll(() => page.getByTestId("cancel-reason").textContent())
      .toBe("customer <b>withdrew</b>");
    expect(await page.getByTestId("step-error").count()).toBe(0);
    expect(await page.locator("b", { hasText: "withdrew" }).count()).toBe(0);
    await expect.poll(() => row(3).getAttribute("data-cancelled")).toBe("true");
    expect(await row(3).getByTestId("cancel-tag").textContent()).toContain("customer");
    // The node the cancel cut short is coloured as cancelled in the graph.
    await expect
      .poll(() => page.locator('.graph-node[data-node="Review"]').getAttribute("data-status"))
      .toBe("cancelled");
    await shoot("cancelled.png");
    const stored = await store.storage.getLatestStep(REVIEW, engine.runId);
    expect(stored).toMatchObject({
      step: 3,
      parent: 2,
      status: "cancelled",
      error: { code: "CANCELLED", message: "customer <b>withdrew</b>" },
    });

    await open(`/w/${REVIEW}`);
    await expect.poll(() => page.getByTestId("count-cancelled").textContent()).toBe("1");
    await page.getByRole("button", { name: /^cancelled/ }).click();
    await expect.poll(() => page.locator("tbody tr").count()).toBe(1);
    expect(await page.locator("tbody tr").getAttribute("data-run")).toBe(engine.runId);
    expect(await page.locator("tbody tr .badge").textContent()).toBe("cancelled");
  });

  it("opens a run of 100,000 steps (10,000 on PostgreSQL; time printed)", async () => {
    await open("/");
    const started = Date.now();
    await open(`/w/${BIG}/r/${BIG_RUN}`);
    await row(bigSteps).waitFor();
    await expect.poll(() => selectedStep().textContent()).toBe(`step ${bigSteps} / ${bigSteps}`);
    await page.getByTestId("state-tree").getByText(String(bigSteps)).first().waitFor();
    await page.locator('.graph-node[data-node="Count"][data-status="completed"]').waitFor();
    const took = Date.now() - started;
    // What the page waited for from the server, as the browser timed it.
    const requests = await page.evaluate(() =>
      performance
        .getEntriesByType("resource")
        .filter((entry) => entry.name.includes("/api/"))
        .map(
          (entry) =>
            `${new URL(entry.name).pathname.split("/").slice(-2).join("/")}${new URL(entry.name).search} ${Math.round(entry.duration)} ms`,
        ),
    );
    console.log(`[${name}] requests while opening: ${requests.join(", ")}`);
    console.log(
      `[${name}] opened the ${bigSteps.toLocaleString("en")}-step run in ${took} ms (from navigation until the head row, the graph and the state are shown)`,
    );
    await page.keyboard.press("ArrowLeft");
    await expect
      .poll(() => selectedStep().textContent())
      .toBe(`step ${bigSteps - 1} / ${bigSteps}`);
    await page.getByLabel("Jump to step").fill("50000");
    await page.getByRole("button", { name: "Go" }).click();
    await row(Math.min(50_000, bigSteps)).waitFor();
    await shoot("big-run.png");
    expect(pageErrors).toEqual([]);
  });
});
