/**
 * What a watch session says when a pass fails as a whole, or when its end cannot be
 * recorded: a full backup disk is named so, with the remedy `run` gives (free space on the
 * disk of the backup root). Words only: nothing is written here, and an interruption
 * leaves nothing.
 */
import { diskFullText, errorText } from "../engine/errors.ts";
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
 * The session's end not recorded (`why`, a full disk): `history` shows it interrupted,
 * where it ended with `status` (`partial`: with problems).
 */
export function unrecordedEnd(session: Session, why: string, status: string): string {
  const problems = status === "partial" ? ", though it finished with problems" : "";
  const remedy = diskFullAt(why, session.tmpDir) ? `: ${diskFullText(session.root, why)}` : "";
  return `Cannot record the end of the watch session (run ${session.runId}): ${why}: ` +
    `'history' shows it as interrupted${problems}${remedy}`;
}
