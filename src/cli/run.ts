/** `run`: one backup pass over every source. The default command. */
import { loadConfig } from "../config/config.ts";
import { findConfigFile } from "../config/config.ts";
import { backupOnce } from "../engine/backup.ts";
import { flag, parseCommand, str } from "./args.ts";
import { humanSummary, jsonSummary } from "./summary.ts";

export const RUN_HELP =
  `Usage: backup-tool run [--config FILE] [--json] [--rehash] [--force] [--quiet]

Runs one incremental backup pass: new and changed files are copied, replaced contents are
kept in versions/, deleted files move to _deleted/, old versions beyond the retention limit
are removed. Every action is logged in log_dir.

Options:
  --config FILE  Config file (default ./config.jsonc, then ./config.json)
  --json         Print one JSON summary on stdout
  --rehash       Read and hash every file, even those whose size and times are unchanged
  --force        Archive deletions even beyond safety.max_delete_percent
  --quiet        Print nothing but errors

Examples:
  backup-tool run --config ~/backup.jsonc
  backup-tool run --json | jq .counts`;

export async function runCommand(argv: string[]): Promise<number> {
  const p = parseCommand("run", argv, { boolean: ["rehash", "force"] });
  if (flag(p, "help")) {
    console.log(RUN_HELP);
    return 0;
  }
  const config = loadConfig(findConfigFile(str(p, "config"), Deno.cwd()));
  const summary = await backupOnce(config, { rehash: flag(p, "rehash"), force: flag(p, "force") });
  for (const e of summary.errors) console.error(`ERROR: ${e.path}: ${e.message}`);
  if (flag(p, "json")) console.log(jsonSummary("run", summary, false));
  else if (!flag(p, "quiet")) console.log(humanSummary("Backup complete", summary));
  return summary.exitCode;
}
