/**
 * CLI entry point: picks the command (`run` when none is given), runs it, and maps errors
 * to exit codes: 0 ok, 1 some files failed, 2 usage or configuration error (nothing
 * changed), 3 the backup root is locked by another run. Commands parse and print; the
 * decisions live in the engine.
 */
import { ConfigError } from "./config/config.ts";
import { suggest } from "./config/suggest.ts";
import { LockedError, PreflightError } from "./engine/errors.ts";
import { UsageError } from "./cli/args.ts";
import { runCommand } from "./cli/run.ts";
import { planCommand } from "./cli/plan.ts";
import { VERSION } from "./version.ts";

type Command = { run: (argv: string[]) => Promise<number>; summary: string };

const COMMANDS: Record<string, Command> = {
  run: { run: runCommand, summary: "Back up every source once (the default command)" },
  plan: { run: planCommand, summary: "Show what the next run would do, changing nothing" },
};

const HELP = `backup-tool ${VERSION}: deterministic, content-hash based incremental backups

Usage: backup-tool [COMMAND] [OPTIONS]

Commands:
${Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(9)}${c.summary}`).join("\n")}

Run 'backup-tool COMMAND --help' for a command's options.
Exit codes: 0 ok, 1 some files failed, 2 usage or configuration error, 3 backup root locked.`;

export async function main(args: string[]): Promise<number> {
  if (args[0] === "--version" || args[0] === "-V") {
    console.log(`backup-tool ${VERSION}`);
    return 0;
  }
  if (args[0] === "--help" || args[0] === "-h" || args[0] === "help") {
    console.log(HELP);
    return 0;
  }
  const named = args.length > 0 && !args[0].startsWith("-");
  const name = named ? args[0] : "run";
  const command = COMMANDS[name];
  try {
    if (!command) {
      const close = suggest(name, Object.keys(COMMANDS));
      throw new UsageError(
        `Unknown command '${name}'${close ? ` (did you mean '${close}'?)` : ""}: see --help`,
      );
    }
    return await command.run(named ? args.slice(1) : args);
  } catch (e) {
    return reportError(e);
  }
}

function reportError(e: unknown): number {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof UsageError || e instanceof ConfigError || e instanceof PreflightError) {
    console.error(message);
    return 2;
  }
  if (e instanceof LockedError) {
    console.error(message);
    return 3;
  }
  console.error(`Backup failed: ${message}`);
  return 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
