/**
 * `verify --forget-missing`: old copies (versions, deleted files) missing from the backup
 * root that repair could not make again, mostly removed by hand to free space, are
 * recorded as lost, as a run records a copy it finds missing when it archives it. verify
 * stops naming them, `history` shows them lost, and a restore of a moment that needs one
 * says so. Current copies are never forgotten: the next run copies an unchanged file
 * again, or records its copy lost as it archives it. Refused, like the deletion guard,
 * when more than `safety.max_delete_percent` of the stored old copies would be forgotten
 * (a backup disk not mounted where the state expects it), unless `--force`. One transaction:
 * an interruption forgets all of them or none.
 */
import type { StateStore, StoredCopy } from "../state/store.ts";
import type { RepairOutcome } from "./repair_copies.ts";
import { commandHint } from "../config/selection.ts";

interface ForgetResult {
  /** The copies recorded as lost. */
  forgotten: RepairOutcome[];
  /** Why none was, when the limit held them back. */
  refused?: string;
}

interface ForgetRules {
  /**
   * The old copies (versions, deleted files) the state records as stored: the limit's
   * base. Not every stored copy: current copies are never forgotten, and an unmounted
   * disk that held only old ones (`versions/` mounted apart) must be held back too.
   */
  total: number;
  maxPercent: number;
  force: boolean;
}

/**
 * Forgets the copies among `failed` (repairs that failed because nothing holds their content
 * any more) that verify found missing and that are no path's current copy; `copies`: the
 * copies repair was given.
 */
export function forgetMissing(
  store: StateStore,
  failed: RepairOutcome[],
  missing: ReadonlySet<string>,
  copies: StoredCopy[],
  rules: ForgetRules,
): ForgetResult {
  const byKey = new Map(copies.map((c) => [copyKey(c.path, c.seq), c]));
  const chosen: { outcome: RepairOutcome; copy: StoredCopy }[] = [];
  for (const outcome of failed) {
    const key = copyKey(outcome.path, outcome.version);
    const copy = byKey.get(key);
    if (!missing.has(key) || copy === undefined || copy.storedAt === null) continue;
    if (copy.location === "version" || copy.location === "deleted") chosen.push({ outcome, copy });
  }
  const { total, maxPercent, force } = rules;
  if (!force && chosen.length * 100 > maxPercent * total) {
    return {
      forgotten: [],
      refused: `Cannot forget the missing copies: ${chosen.length} of the ${total} stored old ` +
        "copies (versions and deleted files) would be forgotten, more than " +
        `safety.max_delete_percent (${maxPercent}%): ` +
        "check that the backup root is the right disk, mounted; if the copies were removed " +
        `on purpose, run '${commandHint("verify --forget-missing --force")}'`,
    };
  }
  store.forgetMissing(
    chosen.map(({ copy }) => ({ id: copy.id, storedAt: copy.storedAt! })),
    store.recordedTime(),
  );
  return { forgotten: chosen.map(({ outcome }) => outcome) };
}

/** A copy's key: its logical path and content number. */
export function copyKey(path: string, version: number): string {
  return `${path}\0${version}`;
}

/** The log's and the terminal's line for a forgotten copy. */
export function forgottenLine(o: RepairOutcome): string {
  return `FORGOTTEN: ${o.file} (${o.path} v${o.version}): missing from the backup root, and ` +
    "nothing holds its content: recorded as lost";
}
