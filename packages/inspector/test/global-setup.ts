// Finds (or starts) the PostgreSQL server the PostgreSQL round of the tests
// uses, and afterwards drops the schemas this run made.
import { providePostgres } from "@wf/test-services/vitest-setup";
import type { TestProject } from "vitest/node";

export default (project: TestProject) => providePostgres(project, "wf_inspector");
