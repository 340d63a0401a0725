/**
 * Retention's prunes at the end of a pass (the rule: retention.ts): which files' versions
 * it looks at, read from the state, or predicted from the plan on a dry run. Beyond the
 * newest `max_versions_per_file`, the versions a file keeps by period (`keep_daily` …)
 * change only as it gets new ones (the periods counted are those that have versions), or
 * as the settings change: a full pass looks at every file over `max`, a scoped one (a
 * watch session's) at the files it archived a version of and at those over what every
 * setting together keeps, so that a file kept at its periods' versions is not read again
 * at each pass. Reads only: an interruption leaves nothing.
 */
import type { PassContext, PassOptions } from "./pass_types.ts";
import type { Action, Archive } from "./types.ts";
import type { StoredCopy } from "../state/rows.ts";
import { mostKept, planRetention, type StoredVersion } from "./retention.ts";

/** The prunes of the versions over the limits, for the files a pass looks at (see above). */
export function retentionActions(
  ctx: PassContext,
  archived: ReadonlyMap<string, Archive>,
  opts: PassOptions,
): Action[] {
  const store = ctx.store;
  if (!store) return [];
  const { maxVersionsPerFile: max, keptPeriods: periods } = ctx.config;
  const bound = opts.scope === undefined ? max : mostKept(max, periods);
  const over = store.versionsOverLimit(bound);
  if (opts.dryRun) {
    // The state does not hold this plan's versions yet: those files' are predicted whole.
    const planned = [...archived].flatMap(([path, arch]) =>
      plannedVersions(path, store.copiesOf(path), arch)
    );
    return planRetention([...over.filter((v) => !archived.has(v.path)), ...planned], max, periods);
  }
  if (bound === max) return planRetention(over, max, periods); // every file over max is in
  const looked = new Set(over.map((v) => v.path));
  const more = [...archived.keys()].filter((path) => !looked.has(path))
    .map((path) => store.copiesOf(path).filter(isVersion).map(storedVersion))
    .filter((versions) => versions.length > max);
  return planRetention([...over, ...more.flat()], max, periods);
}

/** A file's versions once the plan has archived its latest copy (`arch`). */
function plannedVersions(path: string, copies: StoredCopy[], arch: Archive): StoredVersion[] {
  const latest = copies.find((c) => c.id === arch.copyId);
  return [...copies.filter(isVersion).map(storedVersion), {
    path,
    copyId: arch.copyId,
    seq: arch.seq,
    storedAt: arch.to,
    validFrom: latest?.validFrom ?? Date.now(),
  }];
}

function isVersion(c: StoredCopy): boolean {
  return c.location === "version";
}

/** A stored copy as retention sees it: a file's with its content as recorded. */
function storedVersion(c: StoredCopy): StoredVersion {
  const { path, id: copyId, seq, storedAt, validFrom } = c;
  const recorded = c.kind === "file" &&
    { size: c.size, mtimeMs: c.mtimeMs, hash: c.hash, algo: c.algo };
  return { path, copyId, seq, storedAt: storedAt!, validFrom, ...(recorded && { recorded }) };
}
