/**
 * A watch session reads its config once, at start. A change to the file afterwards (an
 * exclude added, a source added, a typo) is not applied until the watch is started again,
 * so it is said, once per change: otherwise a user who added an exclude would see the
 * files it names backed up still, without a word. The file is read when the watch begins,
 * before anything else, and again before each pass; memory only, an interruption leaves
 * nothing.
 */
import { loadConfig } from "../config/config.ts";
import { errorText, isOutOfOpenFiles } from "../engine/errors.ts";

/** Returns, before each pass, the warning to give if the config changed since last said. */
export function configChangeNotice(file: string): () => string | undefined {
  let start = fingerprint(file);
  let said = start;
  return () => {
    const now = fingerprint(file);
    if (now === said || now === UNKNOWN) return undefined;
    if (start === UNKNOWN) { // not looked at, at the start: the first look stands for it
      start = said = now;
      return undefined;
    }
    said = now;
    // An edit undone: the earlier warning's change is no longer there to apply.
    if (now === start) {
      return `The config '${file}' is again the one this watch started with: nothing to apply`;
    }
    return `The config '${file}' changed since this watch started: the watch goes on with ` +
      `the config it started with; ${remedy(file, now)}`;
  };
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
 * saving again) is no change. A config is a few hundred bytes, read once a pass.
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
