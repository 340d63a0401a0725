/**
 * What a watch session says when a pass fails as a whole, when passes work again after
 * that, or when its end cannot be recorded: a full backup disk is named so, with the
 * remedy `run` gives (free space on the disk of the backup root). Words only: nothing is
 * written here, and an interruption leaves nothing.
 */
import { diskFullText, errorText, isDiskFull } from "../engine/errors.ts";
import type { PassResult } from "../engine/pass_types.ts";
import type { Job } from "./scheduler.ts";
import { diskFullAt } from "../engine/reserve.ts";
import { explainedDamage } from "../state/damage.ts";
import type { Session } from "../engine/session.ts";
import { outOfFiles } from "./watch_events.ts";

/** A pass's failure `e`: a full disk with its remedy, damage or want of files explained. */
export function passFailure(session: Session, e: unknown): string {
  const text = errorText(explainedDamage(e));
  const detail = diskFullAt(text, session.tmpDir) ? diskFullText(session.root, text) : text;
  return `${detail}${outOfFiles(e)}`;
}

/**
 * The line for `job`, a pass that went through (`result`) after `failed` passes failed,
 * saying backups work again and what catches up the changes made meanwhile: a full pass
 * did; after a scoped one, the retry's full rescan does (due within `retryMs`, armed by the
 * first failure). Undefined where a file failed for want of room: the disk is still full.
 */
export function passesWorkAgain(
  job: Job,
  result: PassResult,
  failed: number,
  retryMs: number,
): string | undefined {
  if (result.errors.some((e) => isDiskFull(e.message))) return undefined;
  const after = `after ${failed} failed pass${failed === 1 ? "" : "es"}`;
  const caughtUp = job.kind === "full"
    ? `a full rescan went through ${after} and caught up the changes made meanwhile`
    : `a pass went through ${after}; a full rescan within ${retryMs / 1000} s catches up ` +
      "the changes made meanwhile";
  const n = result.counts.failed;
  const files = n === 0 ? "" : `; ${n} file${n === 1 ? "" : "s"} failed (named in ERROR lines)`;
  return `Backups work again: ${caughtUp}${files}`;
}

/**
 * The session's end not recorded (`why`, a full disk): `history` shows it interrupted,
 * where it ended with `status` (`partial`: with problems).
 */
export function unrecordedEnd(session: Session, why: string, status: string): string {
  const problems = status === "partial" ? ", though it finished with problems" : "";
  const remedy = diskFullAt(why, session.tmpDir) ? `: ${diskFullText(session.root, why)}` : "";
  return `Cannot record the end of the watch session (run ${session.runId}): ${why}: ` +
    `'history' shows it as interrupted${problems}${remedy}`;
}
