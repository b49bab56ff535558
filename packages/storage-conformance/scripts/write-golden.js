// Regenerates golden/*.json by running every scenario on MemoryStorage.
// Review the diff before committing: the golden journals are the contract.
import { writeFile } from "node:fs/promises";
import { MemoryStorage } from "@wf/core";
import { GOLDEN_DIR, SCENARIOS } from "../dist/index.js";

for (const [name, scenario] of Object.entries(SCENARIOS)) {
  const storage = new MemoryStorage();
  const { journal } = await scenario({
    storage,
    restart: async (s) => s,
    workflowId: `golden-${name}`,
  });
  await writeFile(new URL(`${name}.json`, GOLDEN_DIR), `${JSON.stringify(journal, null, 2)}\n`);
  console.log(
    `golden/${name}.json: ${journal.runs.map((r) => `${r.steps.length} steps`).join(", ")}`,
  );
}
