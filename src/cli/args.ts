/**
 * Argument parsing shared by every command: node:util's strict `parseArgs`, with its
 * errors turned into one usage line (exit code 2) that names the bad flag and suggests the
 * closest known one.
 */
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { suggest } from "../config/suggest.ts";
import { selectBackup } from "../config/selection.ts";

import { UsageError } from "../engine/errors.ts";

export { UsageError };

interface FlagSpec {
  boolean?: string[];
  string?: string[];
  /** Flags that may be repeated (string flags only). */
  multiple?: string[];
  /** The command takes PATHs (a PATH starting with '-' is then told to go after '--'). */
  paths?: boolean;
  short?: Record<string, string>;
}

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/**
 * Flags every command accepts. `--json` and `--quiet` (`-q`) are each command's own, so
 * that one given where it means nothing (`history -q`, `init --json`) is refused.
 */
const COMMON: FlagSpec = { boolean: ["help"], string: ["config"] };

export function parseCommand(command: string, argv: string[], spec: FlagSpec): Parsed {
  const options: Record<
    string,
    { type: "string" | "boolean"; multiple?: boolean; short?: string }
  > = {};
  for (const name of [...(COMMON.boolean ?? []), ...(spec.boolean ?? [])]) {
    options[name] = { type: "boolean" };
  }
  for (const name of [...(COMMON.string ?? []), ...(spec.string ?? [])]) {
    options[name] = { type: "string", multiple: spec.multiple?.includes(name) ?? false };
  }
  const shorts = { h: "help", ...(options.quiet ? { q: "quiet" } : {}), ...spec.short };
  for (const [short, long] of Object.entries(shorts)) options[long].short = short;
  let parsed;
  try {
    refuseDashInShortGroup(argv);
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true, tokens: true });
  } catch (e) {
    // Asked for help: that wins over whatever else is wrong with the line.
    if (asksHelp(argv)) return { values: { help: true }, positionals: [] };
    throw new UsageError(usageMessage(command, e, Object.keys(options), argv, spec.paths));
  }
  if (parsed.values.help === true) return { values: { help: true }, positionals: [] };
  refuseRepeated(command, parsed.tokens, options);
  noteSelection(command, parsed.values);
  return { values: parsed.values as Parsed["values"], positionals: parsed.positionals };
}

/**
 * The option that selects the backup, as hints naming a command to run repeat it
 * (selection.ts); `init`'s name what it makes instead.
 */
function noteSelection(command: string, values: Record<string, unknown>): void {
  if (command === "init") return;
  for (const option of ["config", "backup-root"] as const) {
    const given = values[option];
    if (typeof given === "string" && given !== "") selectBackup(option, resolve(given));
  }
}

/**
 * `-q-x`: parseArgs reads a short group letter by letter, so its `-` became `--`, the end of
 * the options, and `-x` a PATH (`init -q-x` made a folder '-x'). `-q=1` likewise became the
 * options `-q`, `-=` and `-1`, and the error named '-=', which was never typed. Such a word
 * is refused as the unknown option it is.
 */
function refuseDashInShortGroup(argv: string[]): void {
  for (const arg of argv) {
    if (arg === "--") return;
    if (/^-[^-][^=]*-|^-[^-].*=/.test(arg)) throw new Error(`Unknown option '${arg}'`);
  }
}

/** Whether `--help` or `-h` is among the options (before any `--`). */
function asksHelp(argv: string[]): boolean {
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

/**
 * A value flag given twice (`--config a --config b`) is refused: parseArgs keeps the last
 * one, and the first, dropped without a word, may be the one meant (`--to` twice).
 */
function refuseRepeated(
  command: string,
  tokens: { kind: string; name?: string }[],
  options: Record<string, { type: string; multiple?: boolean }>,
): void {
  const seen = new Set<string>();
  for (const t of tokens) {
    if (t.kind !== "option" || t.name === undefined) continue;
    const option = options[t.name];
    if (option?.type !== "string" || option.multiple) continue;
    if (seen.has(t.name)) {
      throw new UsageError(
        `Option '--${t.name}' given twice for '${command}': give it once: see '${command} --help'`,
      );
    }
    seen.add(t.name);
  }
}

/** What each value flag takes, as the commands' help names it. */
const VALUE_NAMES: Record<string, string> = {
  config: "FILE",
  to: "DIR",
  at: "TIME",
  since: "TIME",
  until: "TIME",
  version: "N",
  sample: "PERCENT",
  top: "N",
  source: "PATH",
  "backup-root": "PATH",
  include: "PATTERN",
  exclude: "PATTERN",
};

/**
 * What a command does instead of an option it does not take but another command, rsync or
 * restic does: said beside the refusal.
 */
const INSTEAD: Record<string, Record<string, string>> = {
  ls: { version: "ls takes none: 'history PATH' lists a file's contents" },
  diff: { at: "diff compares two moments: give --since TIME and --until TIME" },
  purge: { "dry-run": "without --yes, purge only lists", n: "without --yes, purge only lists" },
};

function usageMessage(
  command: string,
  e: unknown,
  known: string[],
  argv: string[],
  takesPaths = false,
): string {
  const text = e instanceof Error ? e.message : String(e);
  // A value that starts with a dash (`--sample -1`): parseArgs calls it ambiguous.
  const dashed = text.match(/^Option '([^']*)' argument is ambiguous/);
  if (dashed) {
    const given = argv[argv.indexOf(dashed[1]) + 1] ?? "";
    const long = text.match(/use '(--[^=']+)=/)?.[1] ?? dashed[1];
    return `Invalid value for '${dashed[1]}' of '${command}': '${given}' looks like an option: ` +
      `give a value, or write it as '${long}=${given}' if it is one: see '${command} --help'`;
  }
  // `--to` last on the line, or `--json=yes`: said in the tool's words, not parseArgs'
  // ("Option '--to <value>' argument missing").
  const missing = text.match(/^Option '(?:-[^-], )?(--[^ ']+) <value>' argument missing/);
  if (missing) {
    const value = VALUE_NAMES[missing[1].slice(2)] ?? "VALUE";
    return `Missing value for '${missing[1]}' of '${command}': write '${missing[1]} ${value}': ` +
      `see '${command} --help'`;
  }
  const valued = text.match(/^Option '(?:-[^-], )?(--[^ ']+)' does not take an argument/);
  if (valued) {
    return `Invalid value for '${valued[1]}' of '${command}': it takes none: write ` +
      `'${valued[1]}' alone: see '${command} --help'`;
  }
  const unknown = text.match(/Unknown option '(-{1,2})([^']*)'/);
  if (unknown) {
    const close = suggest(unknown[2], known);
    const instead = INSTEAD[command]?.[unknown[2]];
    const hints = instead ? [instead] : close ? [`did you mean '--${close}'?`] : [];
    // `-a.txt` is read as options: a PATH that starts with a dash is given after `--`.
    if (takesPaths && unknown[1] === "-" && !instead) {
      hints.push("a PATH starting with '-' goes after '--'");
    }
    const hint = hints.length > 0 ? ` (${hints.join("; ")})` : "";
    return `Unknown option '${unknown[1]}${
      unknown[2]
    }' for '${command}'${hint}: see '${command} --help'`;
  }
  return `Invalid arguments for '${command}': ${text.split("\n")[0]}: see '${command} --help'`;
}

/**
 * Refuses an empty PATH argument: one from an unset shell variable (`restore "$DIR"`)
 * would otherwise stand for nothing in particular, and `restore` would take everything.
 */
export function refuseEmptyPaths(command: string, p: Parsed): void {
  if (!p.positionals.includes("")) return;
  throw new UsageError(
    `Empty PATH for '${command}': give a file or folder path (an unset variable?): ` +
      `see '${command} --help'`,
  );
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === "string" ? v : undefined;
}

export function flag(p: Parsed, name: string): boolean {
  return p.values[name] === true;
}
