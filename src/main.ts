/**
 * CLI entry point: picks the command (`run` when none is given), runs it, and maps errors
 * to exit codes: 0 ok, 1 some files failed, 2 usage or configuration error (nothing
 * changed), 3 the backup root is locked by another run. Commands parse and print; the
 * decisions live in the engine.
 */
import { ConfigError } from "./config/config.ts";
import { controlsEscaped } from "./config/errors.ts";
import { suggest } from "./config/suggest.ts";
import { explainedDamage } from "./state/damage.ts";
import {
  errorText,
  isOutOfOpenFiles,
  LockedError,
  openFilesRemedy,
  PreflightError,
} from "./engine/errors.ts";
import { descriptorsRunningOut, shownOpenFilesLimit } from "./engine/fs/flush.ts";
import { refuseDebuggerSignal } from "./engine/debug_signal.ts";
import { UsageError } from "./cli/args.ts";
import { VERSION } from "./version.ts";
import { say, stdout, warn } from "./cli/stdout.ts";

type CommandMain = (argv: string[]) => Promise<number>;

// Each command's modules are loaded only when it runs: the restore side alone pulls in
// node:fs, whose set-up cost every `run` about 35 ms (measured here). The specifiers are
// literals, so `deno compile` still finds and embeds every command.
const COMMANDS = {
  run: async () => (await import("./cli/run.ts")).runCommand,
  plan: async () => (await import("./cli/plan.ts")).planCommand,
  init: async () => (await import("./cli/init.ts")).initCommand,
  watch: async () => (await import("./cli/watch.ts")).watchCommand,
  restore: async () => (await import("./cli/restore.ts")).restoreCommand,
  ls: async () => (await import("./cli/ls.ts")).lsCommand,
  diff: async () => (await import("./cli/diff.ts")).diffCommand,
  history: async () => (await import("./cli/history.ts")).historyCommand,
  verify: async () => (await import("./cli/verify.ts")).verifyCommand,
  purge: async () => (await import("./cli/purge.ts")).purgeCommand,
  find: async () => (await import("./cli/find.ts")).findCommand,
  stats: async () => (await import("./cli/stats.ts")).statsCommand,
} satisfies Record<string, () => Promise<CommandMain>>;
type CommandName = keyof typeof COMMANDS;

const SUMMARIES: Record<CommandName, string> = {
  run: "Back up every source once (the default command)",
  plan: "Show what the next run would do, changing nothing",
  init: "Write a commented config.jsonc to start from",
  watch: "Back up continuously as files change, until stopped",
  restore: "Restore files, the latest or as of a time or version",
  ls: "List what restore would give back, as of now or a time",
  find: "Find every path ever backed up whose name matches a pattern",
  diff: "Show what changed in the backup between two times",
  stats: "Show how much space the backup takes, and where",
  history: "List every run, or every stored content of one file",
  verify: "Re-hash stored copies and report damage",
  purge: "Delete every stored copy of files no longer backed up",
};

const HELP = `backup-tool ${VERSION}: deterministic, content-hash based incremental backups

Usage: backup-tool [COMMAND] [OPTIONS]

Commands:
${Object.entries(SUMMARIES).map(([n, summary]) => `  ${n.padEnd(9)}${summary}`).join("\n")}

Options:
  -h, --help     Show this help ('backup-tool COMMAND --help' for a command's options)
  -V, --version  Print the version

Exit codes: 0 ok, 1 some files failed, 2 usage or configuration error, 3 backup root locked.

Examples:
  backup-tool init                 Write ./config.jsonc, then edit its "sources"
  backup-tool                      Back up with ./config.jsonc (same as 'backup-tool run')
  backup-tool plan --json          What the next run would do, as JSON
  backup-tool run --help           Options of 'run'`;

/** Flags only the tool itself takes, for a did-you-mean when one is mistyped. */
const TOOL_FLAGS = ["help", "version"];

export async function main(args: string[]): Promise<number> {
  if (args[0] === "--version" || args[0] === "-V") {
    say(`backup-tool ${VERSION}`);
    return 0;
  }
  if (args[0] === "--help" || args[0] === "-h" || (args[0] === "help" && args.length === 1)) {
    say(HELP);
    return 0;
  }
  if (args[0] === "help") return args.length === 2 ? main([args[1], "--help"]) : helpTooMany(args);
  const named = args.length > 0 && !args[0].startsWith("-");
  const name = named ? args[0] : "run";
  // Own keys only: `constructor` and the like are no commands.
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name as CommandName] : undefined;
  try {
    if (!named) checkToolFlag(args[0]);
    if (!load) {
      const close = suggest(name, Object.keys(COMMANDS));
      throw new UsageError(
        `Unknown command '${name}'${close ? ` (did you mean '${close}'?)` : ""}: see --help`,
      );
    }
    // Help needs no folder.
    if (!args.some((a) => a === "--help" || a === "-h")) checkWorkingFolder();
    const run = await load();
    return await run(named ? args.slice(1) : args);
  } catch (e) {
    return reportError(named ? e : optionsFirst(e, args), name);
  }
}

/**
 * `--config x plan`: options before the command, which `run` (the default) found as an
 * unexpected argument or an unknown option: said as such.
 */
function optionsFirst(e: unknown, args: string[]): unknown {
  if (
    !(e instanceof UsageError) ||
    !/^(Unexpected argument|Unknown option) .* for 'run'/.test(e.message)
  ) {
    return e;
  }
  // `--config plan --bogus`: 'plan' there is the config's name, not a command.
  const command = args.find((a, i) => Object.hasOwn(COMMANDS, a) && args[i - 1] !== "--config");
  if (command === undefined) return e;
  return new UsageError(
    `Options go after the command: 'backup-tool ${command} [OPTIONS]': see '${command} --help'`,
  );
}

/**
 * Every command reads paths from the working folder (the config by default, relative
 * PATHs, `--to`): one removed meanwhile (a shell left in a deleted folder) is said as
 * such before anything is done, not met halfway as a bare "No such file or directory"
 * (`init` had then written its config, and said it failed).
 */
function checkWorkingFolder(): void {
  try {
    Deno.cwd();
  } catch (e) {
    throw new UsageError(
      `Cannot read the working folder: ${errorText(e)}: it was removed or cannot be ` +
        "entered; change to an existing folder (cd) and run the command again",
    );
  }
}

/** `help run extra`: one command's help at a time. */
function helpTooMany(args: string[]): number {
  return reportError(
    new UsageError(
      `Too many words for 'help': '${args.slice(1).join(" ")}': give one command, ` +
        `such as 'help ${args[1]}'`,
    ),
    "help",
  );
}

/** `--verison` and the like: name the tool flag instead of a confusing error from `run`. */
function checkToolFlag(arg: string | undefined): void {
  const word = arg?.match(/^--?([^=]+)/)?.[1];
  if (word === undefined || TOOL_FLAGS.includes(word)) return;
  const close = suggest(word, TOOL_FLAGS);
  if (close) {
    throw new UsageError(`Unknown option '${arg}' (did you mean '--${close}'?): see --help`);
  }
}

function reportError(error: unknown, command: string): number {
  // SQLite's bare "database disk image is malformed", met by a query: the file and a remedy.
  const e = explainedDamage(error);
  // One line, whatever the arguments or paths in it hold (a newline in a --to folder's
  // name, an escape sequence): each control character is written as an escape.
  const text = e instanceof Error ? e.message : String(e);
  // Out of file descriptors, the failure's own remedy ("check the path, its permissions")
  // points elsewhere: the limit is named, and what to do (limits hunt: ulimit -n 20). SQLite
  // says only "unable to open database file": the descriptors left are counted.
  const outOfFiles = isOutOfOpenFiles(text) ||
    (/unable to open database file/i.test(text) && descriptorsRunningOut());
  const hint = outOfFiles ? `; ${openFilesRemedy(shownOpenFilesLimit())}` : "";
  const message = controlsEscaped(text + hint);
  if (e instanceof UsageError || e instanceof ConfigError || e instanceof PreflightError) {
    warn(message);
    return 2;
  }
  if (e instanceof LockedError) {
    warn(message);
    return 3;
  }
  // "Backup failed" for `run`; "Watch failed", "Restore failed" and so on for the others.
  const what = command === "run" ? "Backup" : command[0].toUpperCase() + command.slice(1);
  warn(`${what} failed: ${message}`);
  return 1;
}

/**
 * The command's exit code, at least 1 where its output could not be written (see
 * cli/stdout.ts), which one line says: the work itself went on regardless.
 */
function withOutputChecked(code: number): number {
  if (stdout.failure === undefined) return code;
  warn(
    `Cannot write to standard output: ${errorText(stdout.failure)}: ` +
      (code === 0
        ? "the command ran to its end, only what it printed was cut short"
        : "some of what it printed was lost"),
  );
  return Math.max(code, 1);
}

if (import.meta.main) {
  refuseDebuggerSignal();
  Deno.exit(withOutputChecked(await main(Deno.args)));
}
