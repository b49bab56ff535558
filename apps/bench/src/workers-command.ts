import { benchWorkers } from "./workers.js";
import { type WorkersValues, workersOptions } from "./workers-args.js";
import { formatWorkersReport } from "./workers-table.js";

/** Runs the workers benchmark and prints its tables (or JSON) on stdout; exit code 1 if a queue failed. */
export async function runWorkersCommand(values: WorkersValues): Promise<void> {
  const options = workersOptions(values);
  const report = await benchWorkers(options);
  if (values.json) {
    const { progress: _progress, ...shown } = options;
    console.log(JSON.stringify({ options: shown, ...report }, null, 2));
  } else {
    console.log(formatWorkersReport(report, options));
  }
  if (report.failures.length > 0) process.exitCode = 1;
}
