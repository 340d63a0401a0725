/**
 * The staging folder (`.backup-tool/tmp/`), where new copies are written before they are
 * moved into place, refusing new files: for a flag, immutable (`chattr +i`, macOS'
 * `chflags uchg`), which takes no new file, or append-only (`+a`, `uappnd`), which lets no
 * name leave it, so that every copy staged there keeps a second name (and its space, after
 * retention removed the copy) for good; or for this user's access (EACCES: its mode, such
 * as `chmod 555`, or another user's folder). Either is a problem of the whole run, said
 * once, never a failure of each file: a session's start looks (`checkStagingFolder`: a
 * probe file made and removed, exit 2, nothing changed), and a pass that meets it later
 * (the flag set or the mode changed meanwhile) stops at the first file it could not stage
 * (`StagingRefusedError`), once a probe confirms it is the folder, not a step out of it
 * refused elsewhere.
 *
 * The probe is an empty `probe-<uuid>.probe`; one an append-only folder keeps is removed
 * by the next session's look, before its own probe, once the flag is off. Windows has no
 * such flags (os error 1 is another thing there): only its access denied (os error 5) is
 * looked for.
 */
import { join, sep } from "node:path";
import { errorText, flagWords, PreflightError } from "./errors.ts";
import { removeQuietly } from "./fs/fsops.ts";
import { commandHint } from "../config/selection.ts";

/** The probes' names. */
const PROBE_NAME = /^probe-[0-9a-f-]{36}\.probe$/;

/** A pass that could not stage a file because the staging folder refuses new files. */
export class StagingRefusedError extends Error {
  override name = "StagingRefusedError";
}

/**
 * Refuses (exit 2) a staging folder `tmpDir` immutable, append-only or not writable by this
 * user, before anything else is done: `command` is the session's (`run`, `watch`, `verify`
 * for `verify --repair`), for what to do again once the folder takes new files.
 */
export function checkStagingFolder(
  tmpDir: string,
  command: string,
  os: string = Deno.build.os,
): void {
  removeStrayProbes(tmpDir);
  const refused = probeRefusal(tmpDir, os);
  if (refused === undefined) return; // or not for a flag or access: what comes next says it
  throw new PreflightError(
    `${stagingRefusedText(tmpDir, refused, againAfter(command), os)}; nothing was changed`,
  );
}

/**
 * The system's words where the staging folder `tmpDir` refuses a probe file for a flag
 * (EPERM: made, or removed again) or for this user's access (EACCES: made); undefined
 * where it takes one, or fails it otherwise.
 */
function probeRefusal(tmpDir: string, os: string): string | undefined {
  const probe = join(tmpDir, `probe-${crypto.randomUUID()}.probe`);
  let made = false;
  try {
    Deno.writeFileSync(probe, new Uint8Array(0), { createNew: true });
    made = true;
    Deno.removeSync(probe);
    return undefined;
  } catch (e) {
    const kind = refusalKind(errorText(e), os);
    if (kind === "flag" || (kind === "access" && !made)) return errorText(e); // +a keeps it
    if (made) removeQuietly(probe);
    return undefined;
  }
}

/**
 * Whether `message`, a failure to stage a file, is the staging folder `tmpDir` refusing
 * it for a flag or for this user's access: EPERM or EACCES on a path in it (the tool's own
 * files there carry no flag), and the folder refusing a probe now. The probe tells it from
 * a step that names a file of the staging folder but failed elsewhere: a copy made again
 * there by `verify --repair` and renamed into a folder of the backup root that is
 * immutable or not writable itself (`rename '…/tmp/…' -> '…/d/a.txt'`), that copy's
 * failure alone.
 */
export function isStagingRefusal(
  message: string,
  tmpDir: string,
  os: string = Deno.build.os,
): boolean {
  return refusalKind(message, os) !== undefined && message.includes(`'${tmpDir}${sep}`) &&
    probeRefusal(tmpDir, os) !== undefined;
}

/**
 * Throws, to stop the pass, where `message`, a file's failure to be read and staged, is
 * the staging folder `tmpDir` refusing it (a flag set since the session began). A watch
 * (`inWatch`) tries again itself, at its next full rescan (pass_failure.ts).
 */
export function refuseStaging(tmpDir: string, message: string, inWatch: boolean): void {
  if (!isStagingRefusal(message, tmpDir)) return;
  const then = inWatch ? undefined : "then run again";
  throw new StagingRefusedError(
    `${stagingRefusedText(tmpDir, message, then)}; what was stored before is kept, the ` +
      `rest is left for the next ${inWatch ? "pass" : "run"}`,
  );
}

/**
 * The staging folder refusing new files, said with its cause (`message`, the system's
 * words: a flag or this user's access) and remedy; `then`: what to do once the folder takes
 * them ("then run again"), none for a watch, which tries again itself.
 */
export function stagingRefusedText(
  tmpDir: string,
  message: string,
  then: string | undefined,
  os: string = Deno.build.os,
): string {
  return `Cannot write new copies in the staging folder '${tmpDir}' (${message}): ` +
    (refusalKind(message, os) === "access" ? accessRemedy(os) : flagRemedy(os)) +
    (then ? `, ${then}` : "");
}

/** The flag said, and how to take it off, on `os`. */
function flagRemedy(os: string): string {
  const { look, off } = flagWords(os);
  return `the folder is immutable or append-only (${look}): take the flag off with ${off}`;
}

/** This user denied the folder, and how to be let in, on `os`. */
function accessRemedy(os: string): string {
  if (os === "windows") {
    return "this user may not write in it (its owner and permissions, which its " +
      "Properties' Security tab shows, do not let it): give this user write access to it " +
      "there, or run as the user who owns the backup root";
  }
  return "this user may not write in it (its owner and mode, which 'ls -ld' shows, do not " +
    "let it): give this user write access to it ('chmod u+rwx' where the folder is this " +
    "user's, else 'chown' it to this user, as root), or run as the user who owns the " +
    "backup root";
}

/** What to do again once the folder takes new files, for a session of `command`. */
function againAfter(command: string): string {
  if (command === "watch") return "then start the watch again";
  if (command === "verify") return `then run '${commandHint("verify --repair")}' again`;
  return `then ${command} again`;
}

/**
 * Why `message`, a failed step's in the staging folder, was refused there, on `os`:
 * "flag" for EPERM on Linux and macOS (os error 1: in a folder of the tool's own, a flag; a
 * sticky bit, the other cause, is not set there; Windows has no such flags), "access" for
 * EACCES (os error 13; Windows' ERROR_ACCESS_DENIED, 5): this user denied the folder.
 * Undefined for any other failure.
 */
export function refusalKind(message: string, os: string): "flag" | "access" | undefined {
  if (os !== "windows" && /\(os error 1\)/.test(message)) return "flag";
  if (new RegExp(`\\(os error ${os === "windows" ? 5 : 13}\\)`).test(message)) return "access";
  return undefined;
}

/** Removes the probes an append-only staging folder kept. */
function removeStrayProbes(tmpDir: string): void {
  try {
    for (const e of Deno.readDirSync(tmpDir)) {
      if (e.isFile && PROBE_NAME.test(e.name)) removeQuietly(join(tmpDir, e.name));
    }
  } catch { /* not there or not to be read: the probe says what is wrong */ }
}
