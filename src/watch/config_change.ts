/**
 * A watch session reads its config once, at start, and with it the files of exclude
 * patterns it lists (`exclude_from`). A change to the config afterwards (an exclude added, a
 * source added, a typo), or to one of those files, is not applied until the watch is
 * started again, so it is said, once per change: otherwise a user who added an exclude
 * would see the files it names backed up still, without a word. The files are read when
 * the watch begins, before anything else, and again before each pass; memory only, an
 * interruption leaves nothing.
 */
import { loadConfig } from "../config/config.ts";
import { errorText, isOutOfOpenFiles } from "../engine/errors.ts";

/**
 * Returns, before each pass, the warning to give if the config `file`, or one of the files
 * of exclude patterns it listed at the start (`excludeFrom`), changed since last said.
 */
export function configChangeNotice(
  file: string,
  excludeFrom: readonly string[] = [],
): () => string | undefined {
  const files = [file, ...excludeFrom];
  const look = () => files.map(fingerprint);
  let start = look();
  let said = start;
  return () => {
    const now = look();
    if (now.includes(UNKNOWN) || same(now, said)) return undefined;
    if (start.includes(UNKNOWN)) { // not looked at, at the start: the first look stands for it
      start = said = now;
      return undefined;
    }
    said = now;
    // An edit undone: the earlier warning's change is no longer there to apply.
    if (same(now, start)) {
      return excludeFrom.length === 0
        ? `The config '${file}' is again the one this watch started with: nothing to apply`
        : `The config '${file}' and its exclude_from files are again the ones this watch ` +
          "started with: nothing to apply";
    }
    if (now[0] !== start[0]) {
      return `The config '${file}' changed since this watch started: the watch goes on with ` +
        `the config it started with; ${remedy(file, now[0])}`;
    }
    const changed = files[now.findIndex((text, i) => text !== start[i])];
    return `The file of exclude patterns '${changed}' (exclude_from of the config '${file}') ` +
      "changed since this watch started: the watch goes on with the patterns it started " +
      `with; ${remedy(file, now[0])}`;
  };
}

function same(a: readonly (string | undefined)[], b: readonly (string | undefined)[]): boolean {
  return a.every((text, i) => text === b[i]);
}

/**
 * What to do about the change. Starting again applies it only if the file still loads: a
 * config removed or broken meanwhile would make the next start (a service restarted, a
 * reboot) fail, which is said now, with the loader's own reason, while it can be fixed.
 */
function remedy(file: string, text: string | undefined): string {
  const apply = "stop it and start it again to apply the change";
  if (text === undefined) {
    return "it is gone, and a watch started again would find no config: put it back";
  }
  try {
    loadConfig(file);
  } catch (e) {
    // Out of open files for a moment, the loader says nothing of the config itself.
    if (isOutOfOpenFiles(errorText(e))) return apply;
    // Any other failure is said as well: a notice must never fail the pass it precedes.
    return `a watch started again would refuse it (${errorText(e)}): fix it first`;
  }
  return apply;
}

/**
 * The file's text (or that it is gone): a save that changes nothing (`touch`, an editor
 * saving again) is no change. A config is a few hundred bytes, a file of exclude patterns
 * a few KiB, read once a pass.
 */
function fingerprint(file: string): string | undefined {
  try {
    // A pipe the config came through (`--config <(…)`) is read once, at the start.
    if (!Deno.statSync(file).isFile) return "not a file";
    return Deno.readTextFileSync(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    // The process out of open files (a low limit, a moment's peak) knows nothing of the
    // file: looked at again before the next pass. It was no change, and not "gone".
    if (isOutOfOpenFiles(errorText(e))) return UNKNOWN;
    return `cannot be read: ${errorText(e)}`; // said as a start would say it (see remedy)
  }
}

/** A fingerprint that tells nothing: the file could not be looked at just now. */
const UNKNOWN = "\0unknown";
