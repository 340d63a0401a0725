/**
 * Log lines for actions, in the reference tool's forms: sources shown as
 * `<source name>/<path>`, latest copies and _deleted/ as `<backup folder>/<path>`, and
 * versions as `versions/<path>/vN.bak`.
 */
import type { Action, Archive } from "./types.ts";
import { formatBytes } from "./format_bytes.ts";

export function formatAction(a: Action, rootName: string): string[] {
  const b = (p: string) => `${rootName}/${p}`;
  switch (a.type) {
    case "backup":
      return [`BACKUP: ${a.path} → ${b(a.target)}`];
    case "modified":
      return [archiveLine(a.archive, b), `UPDATED: ${a.path} → ${b(a.target)}`];
    case "duplicate": {
      const archived = a.archive ? [archiveLine(a.archive, b)] : [];
      // The reference's form exactly: the original is in `plan --json` (`original`).
      return [...archived, `DUPLICATE: ${a.path} → ${b(a.target)}`];
    }
    case "skip":
      if (a.refresh?.relocatedTo !== undefined) {
        return [
          `RECOPIED: ${a.path} → ${b(a.refresh.relocatedTo)} (something else stands at its ` +
          `copy's place ${b(a.refresh.storedAt)}; content unchanged)`,
        ];
      }
      return a.refresh?.recopied
        ? [
          `RECOPIED: ${a.path} → ${
            b(a.refresh.storedAt)
          } (its copy was missing; content unchanged)`,
        ]
        : [`SKIP: ${a.path}`];
    case "delete":
      return [
        a.blocked
          ? `LOST: ${b(a.from)} (something else stands in its place, left alone)`
          : a.lost
          ? `LOST: ${b(a.from)} (missing from the backup root)`
          : `ARCHIVE DELETE: ${b(a.from)} → ${b(a.to)}`,
        `STATE REMOVE: ${a.path}`,
      ];
    case "exclude":
      return [
        a.missing
          ? `EXCLUDED: ${a.path} (now excluded; its copy ${b(a.storedAt)} is missing)`
          : `EXCLUDED: ${a.path} (now excluded; its copy stays at ${b(a.storedAt)})`,
      ];
    case "prune":
      if (a.purge) return [purgeLine(a)];
      return [
        a.damaged
          ? `RETENTION forget: ${a.storedAt} (it holds other bytes than recorded for it: ` +
            "left in place)"
          : a.absent
          ? `RETENTION forget: ${a.storedAt} (no copy of ours there to delete: missing, or ` +
            "replaced by something left in place)"
          : `RETENTION delete: ${a.storedAt}`,
      ];
    case "promote":
      return [`PROMOTED: ${b(a.from)} → ${b(a.to)} (its original no longer holds this content)`];
  }
}

/** A purge's line: the copy deleted, or why none was. */
function purgeLine(a: Extract<Action, { type: "prune" }>): string {
  if (a.damaged) {
    return `PURGE forget: ${a.storedAt} (it holds other bytes than recorded for it: left in ` +
      "place)";
  }
  if (a.missing) {
    return `PURGE forget: ${a.storedAt} (already missing from the backup root: nothing to ` +
      "delete; recorded as purged)";
  }
  if (a.absent) {
    return `PURGE forget: ${a.storedAt} (no copy of ours there to delete: missing, or ` +
      "replaced by something left in place)";
  }
  return `PURGE delete: ${a.storedAt}`;
}

function archiveLine(archive: Archive, b: (p: string) => string): string {
  if (archive.blocked) {
    return `LOST: ${b(archive.from)} (something else stands in its place, left alone; ` +
      `version ${archive.seq} recorded as lost)`;
  }
  if (!archive.lost) return `ARCHIVE: ${b(archive.from)} → ${archive.to}`;
  const why = `missing from the backup root; version ${archive.seq} recorded as lost`;
  return `LOST: ${b(archive.from)} (${why})`;
}

/**
 * The warning for an action that found a stored copy missing or damaged, if it did.
 * `hint`: a command to run as the warning names it, with the options that selected the
 * backup (config/selection.ts `commandHint`, which the shell gives).
 */
export function storedCopyWarning(
  a: Action,
  hint: (command: string) => string = (command) => command,
): string | undefined {
  const repair = `'${hint("verify --repair")}'`;
  const why = "was missing from the backup root (removed by hand, or a disk fault): " +
    `recorded as lost; run '${hint("verify")}' to check the other copies`;
  const damaged = "no longer holds the content recorded for it (found when the new " +
    "hash_algorithm read it: a disk fault, or changed by hand)";
  const otherBytes = "a disk fault, a change by hand, or a state older than the backup " +
    "root's files: a copy of the root taken during a run, or '.backup-tool/' put back from an " +
    "older one";
  const other = "holds something else (a FIFO, a folder, a symlink, or a symlink or file in " +
    "place of a folder on the way, put there by hand): left alone";
  if (a.type === "delete" && a.blocked) {
    return `Cannot move its copy to _deleted/: its place '${a.from}' ${other}; recorded as lost`;
  }
  if (a.type === "exclude" && a.missing) {
    return `Its copy '${a.storedAt}' was missing from the backup root (removed by hand, or ` +
      "a disk fault), and a run no longer copies the file now that it is excluded: run " +
      `${repair} while the file still holds the content backed up, or remove the ` +
      "pattern and run again";
  }
  if (a.type === "delete" && a.lost) {
    return `Cannot move its copy '${a.from}' to _deleted/: it ${why}`;
  }
  if (a.type === "delete" && a.damaged) {
    return `Its copy '${a.from}' no longer held the content recorded for it (${otherBytes}): ` +
      `moved to '${a.to}' all the same; run ${repair}, which puts the recorded content ` +
      "back where it finds it";
  }
  if (a.type === "prune" && a.damaged) {
    return `The copy of its version ${a.seq}, '${a.storedAt}', no longer held the content ` +
      `recorded for it (${otherBytes}): left in place, not deleted, though ` +
      `${a.purge ? "purge" : "retention"} let the version go (it may be another's, ` +
      "renamed by hand over this one); run " +
      `${repair}, which puts the content it holds back where that is recorded; once ` +
      `'${
        hint("verify")
      }' finds nothing else, remove '${a.storedAt}', no longer part of the backup ` +
      "(it lists it as unknown until then)";
  }
  if (a.type === "promote" && a.damaged) {
    return `Its copy '${a.from}' no longer held the content recorded for it (${otherBytes}): ` +
      `promoted to '${a.to}' all the same; run ${repair}, which puts the recorded ` +
      "content back where it finds it";
  }
  if (a.type === "skip" && a.refresh?.otherBytes) {
    return `Its copy '${a.refresh.storedAt}' no longer holds the content recorded for it ` +
      `(${otherBytes}): left as it is; run ${repair}, which puts the recorded content ` +
      "back where it finds it";
  }
  if (a.type === "skip" && a.refresh?.relocatedTo !== undefined) {
    return `Its copy's place '${a.refresh.storedAt}' ${other}; the unchanged file is copied ` +
      `again to '${a.refresh.relocatedTo}'`;
  }
  if (a.type === "skip" && a.refresh?.recopied) {
    return `Its copy '${a.refresh.storedAt}' was missing from the backup root (removed by hand, ` +
      `or a disk fault): copied again from the unchanged source; run '${
        hint("verify")
      }' to check the ` +
      "other copies";
  }
  if (a.type === "skip" && a.refresh?.damaged) {
    return `Its copy '${a.refresh.storedAt}' ${damaged}: left as it is; run ${repair} ` +
      "to copy it again from the unchanged source";
  }
  const sharing = a.type === "duplicate" || a.type === "backup" || a.type === "modified";
  if (sharing && a.storedDiffers !== undefined) {
    return `The copy '${a.storedDiffers}' of its content no longer holds the content recorded ` +
      `for it (${otherBytes}): found when this file's new copy was to share its disk blocks; ` +
      `the new copy is kept whole; run ${repair}, which puts the recorded content ` +
      "back where it finds it";
  }
  if ((a.type === "modified" || a.type === "duplicate") && a.archive?.blocked) {
    return `Cannot archive its previous content (version ${a.archive.seq}): its copy's place ` +
      `'${a.archive.from}' ${other}; recorded as lost, and the new content is backed up at ` +
      `'${a.target}'`;
  }
  if ((a.type === "modified" || a.type === "duplicate") && a.archive?.lost) {
    return `Cannot archive its previous content (version ${a.archive.seq}): the copy ` +
      `'${a.archive.from}' ${why}; the new content is backed up`;
  }
  if ((a.type === "modified" || a.type === "duplicate") && a.archive?.damaged) {
    return `Its previous copy '${a.archive.from}' no longer holds the content recorded for it ` +
      `(${otherBytes}): archived as version ${a.archive.seq} all the same; the new content ` +
      "is backed up; run " +
      `${repair}, which puts the recorded content back where it finds it`;
  }
  return undefined;
}

/** The log's one line for the unchanged files of a pass not named one by one (`log_unchanged`). */
export function unchangedLine(count: number): string {
  return `UNCHANGED: ${count} file(s), not named one by one (log_unchanged is false)`;
}

/**
 * Why a pass read unchanged files again (`PassResult.reread`): they are other files than
 * the last pass saw. The summary's sentence, and (`log`) the log's `READ AGAIN:` line.
 */
export function rereadLine(reread: { files: number; bytes: number }, log = false): string {
  const what = `${reread.files} unchanged file(s) (${formatBytes(reread.bytes)})`;
  const why = "other files than the last run saw (another inode or device: copied, restored, " +
    "or their disk mounted anew), holding the contents backed up";
  return log ? `READ AGAIN: ${what}: ${why}` : `${what} were read again: they are ${why}`;
}
