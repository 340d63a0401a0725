/**
 * Reads a config file's text: a regular file up to MAX_CONFIG_BYTES, or a pipe the shell
 * passes (`--config <(generate)`, `/dev/stdin`) read up to that size; anything else (a
 * folder, a device, a FIFO found elsewhere) refused before it is opened. The bytes must be
 * UTF-8 (a BOM allowed). A failure throws a one-line `ConfigError` that says why in words
 * and what to do. A caller may give the bytes instead (`FileBytes`: a watch gives those its
 * look read, watch/config_change.ts), checked alike. Reads only: an interruption leaves
 * nothing behind.
 */
import { ConfigError, givenPathNotUtf8, notUtf8Given, osDetail, quote } from "./errors.ts";
import { brokenLink, nonFolderAbove, notAFolder } from "./paths.ts";

/**
 * The largest config read: a real one is a few KiB; a file that never ends (`/dev/zero`)
 * or a wrong one (a disk image) is refused before it is read into memory.
 */
const MAX_CONFIG_BYTES = 1 << 20;

function tooLarge(file: string, size: number | string): ConfigError {
  return new ConfigError(
    `Cannot read config ${quote(file)}: it is ${size} bytes, larger than any config ` +
      `(${MAX_CONFIG_BYTES} at most): pass --config FILE naming the config file`,
  );
}

/** A pipe's bytes, refused past MAX_CONFIG_BYTES. */
function readBounded(file: string): Uint8Array {
  using f = Deno.openSync(file, { read: true });
  const buf = new Uint8Array(MAX_CONFIG_BYTES + 1);
  let n = 0;
  for (let got; n < buf.length && (got = f.readSync(buf.subarray(n))) !== null;) n += got;
  if (n > MAX_CONFIG_BYTES) throw tooLarge(file, `more than ${MAX_CONFIG_BYTES}`);
  return buf.slice(0, n);
}

/**
 * A pipe the shell gives a command (`--config <(generate)`, `--config /dev/stdin`): read,
 * up to the size limit, its relative paths taken from the working folder; a FIFO found
 * anywhere else may never get a writer.
 */
export const PASSED_PIPE = /^\/(dev\/(stdin|fd\/\d+)|proc\/self\/fd\/\d+)$/;

/**
 * The bytes of a file the loader reads (the config, a file `exclude_from` lists), as the
 * caller read them before: a watch loads the files as its look saw them settled, not as a save
 * begun since has left them (watch/config_change.ts). undefined: read from the disk; a file
 * seen gone throws `Deno.errors.NotFound`.
 */
export type FileBytes = (file: string) => Uint8Array | undefined;

export function readConfigText(file: string, read?: FileBytes): string {
  let bytes: Uint8Array;
  try {
    const given = read?.(file);
    if (given !== undefined) {
      if (given.length > MAX_CONFIG_BYTES) throw tooLarge(file, given.length);
      return decode(file, given);
    }
    // Looked at first: a FIFO would hold the read up, a device never end.
    const info = Deno.statSync(file);
    // A terminal on stdin would wait for typing; a socket cannot be opened by its path.
    if (info.isFifo && PASSED_PIPE.test(file)) bytes = readBounded(file);
    else if (!info.isFile) {
      const kind = info.isDirectory ? "a folder" : "not a regular file";
      throw new ConfigError(
        `Cannot read config ${
          quote(file)
        }: it is ${kind}: pass --config FILE naming the config file`,
      );
    } else if (info.size > MAX_CONFIG_BYTES) throw tooLarge(file, info.size);
    else bytes = Deno.readFileSync(file);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(
      `Cannot read config ${quote(file)}: ${readFailure(file, err)}`,
    );
  }
  return decode(file, bytes);
}

/** The config's text, UTF-8 (a BOM allowed). */
function decode(file: string, bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ConfigError(`Cannot load config ${quote(file)}: the file is not UTF-8 text`);
  }
}

/**
 * Why a config file could not be read: one missing is said so in words, as a missing source
 * is (not the system's "No such file or directory (os error 2)"), a file on its way is named
 * (not "Not a directory (os error 20)"), and a symlink to nothing names where it leads; any
 * other failure in the system's words.
 */
export function readFailure(file: string, err: unknown): string {
  // A file on the way: ENOTDIR on Linux and macOS, but a path not found (os error 3) on
  // Windows, where "create it with backup-tool init" could not be done.
  if (err instanceof Deno.errors.NotADirectory || err instanceof Deno.errors.NotFound) {
    const blocker = nonFolderAbove(file);
    if (blocker !== undefined) {
      return `${notAFolder(blocker)}: check the path, or pass --config FILE naming the config file`;
    }
  }
  if (!(err instanceof Deno.errors.NotFound)) return `${osDetail(err)}${readRemedy(err)}`;
  const link = brokenLink(file);
  if (link === undefined && givenPathNotUtf8(file)) return `it does not exist: ${notUtf8Given()}`;
  if (link === undefined) {
    return `it does not exist: check the path, or create it with backup-tool init --config ${
      quote(file)
    }`;
  }
  // `init` would not write through it: the link is what to look at.
  return `${link}: check the symlink, or pass --config FILE naming the config file`;
}

/** What to do about a config file that cannot be read, after the system's reason. */
function readRemedy(err: unknown): string {
  if (err instanceof Deno.errors.PermissionDenied) {
    return ": run as a user who can read it, or pass --config FILE naming a readable copy";
  }
  return "";
}
