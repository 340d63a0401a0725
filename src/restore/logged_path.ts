/**
 * A PATH argument read as the logical path the state recorded, where it may be copied from
 * a log line: a log writes a name on one line, with escapes (`a\nb` for a name with a
 * newline, `back\\slash` for one with a backslash; one_line.ts), so a PATH is tried as
 * given and as read back from them, and one that means two recorded names is refused,
 * naming both. Pure apart from the recorded paths it asks the resolver about: an
 * interruption leaves nothing behind.
 */
import { UsageError } from "../engine/errors.ts";
import { oneLine, readOneLine, spelledOut } from "../log/one_line.ts";
import type { PathResolver } from "./paths.ts";

/**
 * A PATH argument as the logical path recorded (`toLogical`): as given, or, where nothing
 * was ever recorded there, as read back from the log's escapes if something was (a path
 * copied from a log line: `a\nb` for a name with a newline, `back\\slash` for one with a
 * backslash).
 */
export function asRecorded(resolver: PathResolver, given: string): string {
  const held = (p: string) => resolver.isFile(p) || resolver.isFolder(p);
  const plain = readOneLine(given);
  if (plain === given) return resolver.toLogical(given);
  let path: string;
  try {
    path = resolver.toLogical(given);
  } catch (e) {
    // As written it starts with no source's name, as read it may: `s\nrc/a.txt` copied from
    // the log of a source named with a newline, beside others, means that source (before,
    // it was refused as naming none).
    if (!(e instanceof UsageError)) throw e;
    try {
      return resolver.toLogical(plain);
    } catch {
      throw e;
    }
  }
  // Read back, a PATH may name no path a source holds: a Windows PATH's backslash before
  // an n, an r or a u (`C:\Users\robert\notes`) is a folder's, and read as an escape, its
  // path leaves the source's folder (before, a PATH recorded nowhere was refused so, as
  // 'not inside a configured source', rather than said not in the backup).
  const read = readBack(resolver, plain);
  if (!held(path)) return read !== undefined && held(read) ? read : path;
  // Held as written: the log's spelling of another recorded name too (`a\nb` copied from
  // the line of a name with a newline, beside a name with a backslash and an n) is said,
  // never taken for the one as written (before, that one was restored, without a word).
  if (read === undefined || read === path || !held(read)) return path;
  throw new UsageError(
    `Cannot tell which '${given}' is meant: the backup holds a name of these very ` +
      `characters (logged as '${oneLine(path)}') and one a log writes so (its escapes ` +
      `standing for other characters): give '${oneLine(path)}' for the first or ` +
      `'${spelledOut(read)}' for the second`,
  );
}

/** A PATH read back from a log's escapes as the logical path it names, if it names one. */
function readBack(resolver: PathResolver, plain: string): string | undefined {
  try {
    return resolver.toLogical(plain);
  } catch {
    return undefined;
  }
}
