/**
 * Path resolution for the config, read-only. Paths resolve against the config file's
 * folder; existing parts are realpath'd so a symlink and its target compare equal. A path
 * that may not exist yet (backup_root, log_dir) becomes the realpath of its nearest existing
 * ancestor plus the missing rest. Containment is component-wise via `path.relative`.
 */
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { invalid, osDetail, quote } from "./errors.ts";

/** The path rules `isInside` compares by: the system's, or another's (node:path's win32). */
type PathRules = Pick<typeof import("node:path"), "relative" | "isAbsolute" | "sep">;
const SYSTEM_RULES: PathRules = { relative, isAbsolute, sep };

/**
 * True when `child` is strictly inside `parent` (both absolute and normalized), by the
 * system's path rules or those given (`win32`: another letter case names the same folder).
 */
export function isInside(child: string, parent: string, rules = SYSTEM_RULES): boolean {
  const rel = rules.relative(parent, child);
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${rules.sep}`) && !rules.isAbsolute(rel);
}

/**
 * `path` made absolute against `base`; NUL characters are rejected (`what` names the key),
 * and on Windows (`os`) any control character: no Windows name holds one, and one there
 * is a backslash JSON took for an escape (`"C:\\backup"` reads as `C:`, a backspace and
 * `ackup`; `\t`, `\n`, `\f` and `\r` alike), which a run met only as the system's "The
 * filename, directory name, or volume label syntax is incorrect" (os error 123).
 */
export function absolute(
  base: string,
  path: string,
  what: string,
  os: typeof Deno.build.os = Deno.build.os,
): string {
  if (path === "") {
    invalid(`${quote(what)} must not be empty: give a folder path ("." is the config's folder)`);
  }
  if (path.includes("\0")) invalid(`${quote(what)} must not contain a NUL character`);
  // deno-lint-ignore no-control-regex -- control characters are what is refused
  if (os === "windows" && /[\x01-\x1f]/.test(path)) {
    invalid(
      `${quote(what)} ${quote(path)} holds a control character, which Windows does not ` +
        "allow in a path: in a JSON string a backslash starts an escape ('\\b', '\\t', " +
        "'\\n'...): write each backslash twice (\"C:\\\\backup\") or use '/' (\"C:/backup\")",
    );
  }
  // Only a shell expands these: taken as written, "~/backup" would be a folder named "~"
  // beside the config (and a later `rm -rf ~` to remove it, a disaster); so would
  // "%USERPROFILE%\backup", which only cmd.exe expands.
  if (
    /^~[^/\\]*([/\\]|$)/.test(path) || /^\$(\{?)[A-Za-z_]/.test(path) ||
    /^%[A-Za-z_][\w()]*%/.test(path)
  ) {
    invalid(
      `${quote(what)} ${quote(path)} starts with '${path[0]}', which the config does not ` +
        "expand: write the full path",
    );
  }
  return resolve(base, path);
}

function lstatOrNone(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.lstatSync(path);
  } catch {
    return undefined;
  }
}

/**
 * `path` not found, told when it is a symlink to nothing: `it is a symlink to 'x', which
 * does not exist`; undefined where it is no symlink (then it is simply missing).
 */
export function brokenLink(path: string): string | undefined {
  try {
    return `it is a symlink to ${quote(Deno.readLinkSync(path))}, which does not exist`;
  } catch {
    return undefined;
  }
}

/** Whether anything (a dangling symlink too) is at `path`; false where none can be seen. */
export function isThere(path: string): boolean {
  return lstatOrNone(path) !== undefined;
}

/**
 * The nearest existing path above `path` where it is something other than a folder (a file
 * on the way, which the system reports only as "Not a directory"), or undefined.
 */
export function nonFolderAbove(path: string): string | undefined {
  for (let at = dirname(path); dirname(at) !== at; at = dirname(at)) {
    let info;
    try {
      info = Deno.statSync(at);
    } catch (e) {
      // Missing, or below the one looked for: the one above says.
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) continue;
      return undefined;
    }
    return info.isDirectory ? undefined : at;
  }
  return undefined;
}

/** `'<at>' is a file, not a folder` (or `… is not a folder`, for a device, FIFO or socket). */
export function notAFolder(at: string): string {
  let file = false;
  try {
    file = Deno.statSync(at).isFile;
  } catch { /* gone meanwhile: said without its kind */ }
  return `${quote(at)} ${file ? "is a file, not a folder" : "is not a folder"}`;
}

/**
 * Times a missing part is looked at again when it appears meanwhile (another run creating
 * the backup root or the log folder at the same moment), before it counts as broken.
 */
const APPEARED_RETRIES = 3;

/** Realpath of `path`, or undefined when it (or a parent) is missing or not a folder. */
export function tryRealPath(path: string, what: string): string | undefined {
  try {
    return Deno.realPathSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    invalid(`${what} ${quote(path)} cannot be accessed: ${osDetail(err)}`);
  }
}

/**
 * Realpath of an absolute path that may not exist yet: the nearest existing ancestor is
 * resolved and the rest appended. That ancestor must be a folder (or `abs` itself one), and
 * no part may be a dangling symlink. `key` names the config key for messages.
 */
export function realTarget(abs: string, key: string, subject?: string): string {
  const what = `${quote(key)}`;
  // What the messages below say things of: the key and its path, or (where the caller's
  // own words name the path already) `subject`.
  const it = subject ?? `${what} ${quote(abs)}`;
  const rest: string[] = [];
  let current = abs;
  for (let retries = 0;;) {
    const real = tryRealPath(current, what);
    if (real !== undefined) {
      if (!Deno.statSync(real).isDirectory) {
        const part = rest.length === 0 ? "" : ` (its part ${quote(current)} is a file)`;
        invalid(`${it} is not a folder${part}: choose a folder path`);
      }
      return join(real, ...rest);
    }
    const info = lstatOrNone(current);
    // Not there for realpath, there for lstat: a symlink to nothing, or a folder another
    // run has just created (then it resolves when looked at again).
    if (info && !info.isSymlink && retries++ < APPEARED_RETRIES) continue;
    if (info) {
      invalid(`${it} goes through the broken symlink ${quote(current)}`);
    }
    const parent = dirname(current);
    if (parent === current) invalid(`${it} has no existing folder above it`);
    rest.unshift(basename(current));
    current = parent;
  }
}
