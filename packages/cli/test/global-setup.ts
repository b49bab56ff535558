// Finds (or starts) the PostgreSQL, Redis and S3 servers the commands and the
// copies run against, and afterwards drops the schemas this run made.
import { provideServers } from "@wf/test-services/vitest-setup";
import type { TestProject } from "vitest/node";

export default (project: TestProject) => provideServers(project, "wf_cli");
