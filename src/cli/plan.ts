/** `plan`: what the next `run` would do, changing nothing on disk. */
import { findConfigFile, loadConfig } from "../config/config.ts";
import { planOnce } from "../engine/backup.ts";
import { formatAction } from "../engine/describe.ts";
import { basename } from "node:path";
import { flag, parseCommand, str } from "./args.ts";
import { humanSummary, jsonSummary } from "./summary.ts";

export const PLAN_HELP = `Usage: backup-tool plan [--config FILE] [--json] [--rehash]

Prints the actions the next run would take, one per line (or a JSON document), without
changing anything: no copy, no state, no log file, no lock.

Examples:
  backup-tool plan
  backup-tool plan --json | jq '.actions[] | select(.type != "skip")'`;

export async function planCommand(argv: string[]): Promise<number> {
  const p = parseCommand("plan", argv, { boolean: ["rehash", "force"] });
  if (flag(p, "help")) {
    console.log(PLAN_HELP);
    return 0;
  }
  const config = loadConfig(findConfigFile(str(p, "config"), Deno.cwd()));
  const summary = await planOnce(config, { rehash: flag(p, "rehash"), force: flag(p, "force") });
  if (flag(p, "json")) {
    console.log(jsonSummary("plan", summary, true));
    return summary.exitCode;
  }
  const rootName = basename(config.backupRoot);
  for (const a of summary.planned) for (const line of formatAction(a, rootName)) console.log(line);
  for (const e of summary.errors) console.error(`ERROR: ${e.path}: ${e.message}`);
  if (!flag(p, "quiet")) console.log(humanSummary("Plan", summary));
  return summary.exitCode;
}
