/**
 * Config errors. `ConfigError` is what callers see: a one-line message the CLI prints as is
 * (exit code 2). Validators throw the internal `Invalid` with just the detail; `loadConfig`
 * prefixes it with `Cannot load config '<file>': `. Helpers here keep every message one line.
 */
import { dirname, resolve } from "node:path";

/** A config that cannot be found, read or accepted. The message is one line. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** A validation detail, wrapped into a `ConfigError` by the loader. */
export class Invalid extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = "Invalid";
  }
}

/** Throws an `Invalid` with the given detail. */
export function invalid(detail: string): never {
  throw new Invalid(detail);
}

/** Quotes a path or name for a message, escaping control characters to keep it one line. */
export function quote(text: string): string {
  return `'${controlsEscaped(text)}'`;
}

/**
 * `text` with each control character written as JSON writes it (`\n`, `\u001b`): one line.
 * A C1 control (U+009B starts a terminal sequence as ESC [ does), a mark that reorders text
 * and a line or paragraph separator are written `\uXXXX`, as logs write them (one_line.ts),
 * which JSON leaves as they are: before, an error naming a path that held one sent it to
 * the terminal (`history` of a folder named `c1\u009bdir`).
 */
export function controlsEscaped(text: string): string {
  return text.replace(
    // deno-lint-ignore no-control-regex
    /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g,
    (c) =>
      c < "\x80"
        ? JSON.stringify(c).slice(1, -1)
        : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** The JSON type of a value as a user would name it: string, number, array, object, null, … */
export function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** A short JSON rendering of a value for "got …" in messages. */
export function show(value: unknown): string {
  const text = typeof value === "number" ? String(value) : JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The OS part of a Deno error message, without the trailing `: op 'path'` Deno appends. */
export function osDetail(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/: [a-z_]+ '.*'$/s, "").replace(/\s+/g, " ");
}

/**
 * Whether a path from the command line was not valid UTF-8: Deno decodes such an argument
 * with U+FFFD in place of each bad byte (a terminal or a script writing Latin-1 gives `ré`
 * as `r\xE9`), so the path it names is another one. A name holding U+FFFD itself, given in
 * UTF-8, is meant as it is: on Linux the bytes given are read back (/proc/self/cmdline),
 * and where every argument was UTF-8 no U+FFFD stood for a bad byte.
 */
export function givenNotUtf8(path: string): boolean {
  return path.includes("\uFFFD") && !argumentsAllUtf8();
}

/**
 * `givenNotUtf8` for a path on disk: only a U+FFFD in the part of it not there counts (a
 * folder there whose name holds U+FFFD is one the path given reached, so it was meant).
 */
export function givenPathNotUtf8(path: string): boolean {
  if (!givenNotUtf8(path)) return false;
  let there = resolve(path);
  while (!exists(there) && dirname(there) !== there) there = dirname(there);
  return resolve(path).slice(there.length).includes("\uFFFD");
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Whether the process's arguments are known to be UTF-8 each (looked at once). */
function argumentsAllUtf8(): boolean {
  if (argsUtf8 !== undefined) return argsUtf8;
  argsUtf8 = false;
  if (Deno.build.os !== "linux") return argsUtf8; // not known: U+FFFD read as a bad byte's
  try {
    // The arguments as the kernel holds them, NUL between: valid UTF-8 as a whole or not.
    new TextDecoder("utf-8", { fatal: true }).decode(Deno.readFileSync("/proc/self/cmdline"));
    argsUtf8 = true;
  } catch { /* not readable (no /proc, no permission), or one was not UTF-8 */ }
  return argsUtf8;
}

let argsUtf8: boolean | undefined;

/** What to say of such a path (`what`: "path", "PATH"). */
export function notUtf8Given(what = "path"): string {
  return `the ${what} given is not valid UTF-8 (a terminal or script writing another ` +
    "encoding): give it in UTF-8";
}
