/**
 * Retention's prunes at the end of a pass (the rule: retention.ts): which files' versions
 * it looks at, read from the state, or predicted from the plan on a dry run. Beyond the
 * newest `max_versions_per_file`, the versions a file keeps by period (`keep_daily` …)
 * change only as it gets new ones (the periods counted are those that have versions), as
 * the settings change, or as the time zone does (`time_zone`, or the process's where it is
 * "local": configuration.md): a full pass looks at
 * every file over `max`, a scoped one (a watch session's) at the files it archived a
 * version of and at those over what every setting together keeps, so that a file kept at
 * its periods' versions is not read again at each pass (the config's sources' files only:
 * another config sharing the backup root prunes its own). A full pass also prunes the
 * copies of its sources' files deleted longer ago than `keep_deleted_days` (by the clock:
 * one set ahead would prune early, which deleted_guard.ts holds back where implausible).
 * Reads only: an interruption leaves nothing.
 */
import type { PassContext, PassOptions } from "./pass_types.ts";
import type { Action, Archive } from "../core/types.ts";
import type { StoredCopy } from "../state/rows.ts";
import type { StateStore } from "../state/store.ts";
import {
  type DatedVersion,
  deletedCutoff,
  mostKept,
  pruneAction,
  prunedVersions,
} from "../core/retention.ts";
import { type ClockGuard, clockGuard, RHYTHM_RUNS } from "../core/deleted_guard.ts";
import { commandHint } from "../config/selection.ts";

/**
 * The prunes of the versions over the limits, for the files a pass looks at (see above),
 * then, on a full pass, those of the deleted files' copies past `keep_deleted_days`, unless
 * the clock guard holds those back (deleted_guard.ts: `clockGuard` says why).
 */
export function retentionActions(
  ctx: PassContext,
  archived: ReadonlyMap<string, Archive>,
  opts: PassOptions,
): { actions: Action[]; clockGuard?: ClockGuard } {
  const store = ctx.store;
  if (!store) return { actions: [] };
  const clock = Date.now();
  const days = ctx.config.keepDeletedDays;
  const cutoff = opts.scope === undefined ? deletedCutoff(clock, days) : undefined;
  // This config's sources' copies only: another config sharing the backup root prunes its
  // own by its own keep_deleted_days (0: for good), and a source no longer in the config
  // keeps its copies as they are.
  const ofOwn = ownSources(ctx);
  const expired = cutoff === undefined
    ? []
    : store.deletedBefore(cutoff).filter((v) => ofOwn(v.path)).map(pruneAction);
  const versions = versionPrunes(store, ctx, archived, opts);
  if (expired.length === 0) return { actions: versions };
  // A watch's own last full pass, where it made one, vouches for its time too.
  const runs = store.vouchedRunTimes(ctx.runId, RHYTHM_RUNS);
  if (opts.lastFullPassAt !== undefined) runs.unshift(opts.lastFullPassAt);
  runs.sort((a, b) => b - a);
  const guard = clockGuard({
    clock,
    runs,
    days,
    copies: expired.length,
    force: opts.force,
    watch: opts.inWatch,
    plan: opts.dryRun,
    hint: commandHint,
  });
  return guard ? { actions: versions, clockGuard: guard } : { actions: [...versions, ...expired] };
}

/** The prunes of the versions over the limits, for the files a pass looks at (see above). */
function versionPrunes(
  store: StateStore,
  ctx: PassContext,
  archived: ReadonlyMap<string, Archive>,
  opts: PassOptions,
): Action[] {
  const { maxVersionsPerFile: max, keptPeriods: periods } = ctx.config;
  const bound = opts.scope === undefined ? max : mostKept(max, periods);
  const over = store.datedVersionsOverLimit(bound);
  let looked = over;
  if (opts.dryRun) {
    // The state does not hold this plan's versions yet: those files' are predicted whole.
    const planned = [...archived].flatMap(([path, arch]) =>
      plannedVersions(path, store.copiesOf(path), arch)
    );
    looked = [...over.filter((v) => !archived.has(v.path)), ...planned];
  } else if (bound !== max) { // else every file over max is in
    const seen = new Set(over.map((v) => v.path));
    const more = [...archived.keys()].filter((path) => !seen.has(path))
      .map((path) => store.copiesOf(path).filter(isVersion).map(datedVersion))
      .filter((versions) => versions.length > max);
    looked = [...over, ...more.flat()];
  }
  // The rule reads times only; the places of the few it lets go are read then. A planned
  // version is its file's newest, which the rule always keeps (`max` is at least 1). This
  // config's sources' files only: another config sharing the backup root keeps its own
  // versions by its own settings, and a source no longer in the config keeps them as they are.
  const ofOwn = ownSources(ctx);
  const pruned = prunedVersions(looked.filter((v) => ofOwn(v.path)), max, periods);
  return store.storedVersions(pruned.map((v) => v.copyId)).map(pruneAction);
}

/** Whether a logical path (`source/docs/a.txt`) is of one of the config's sources. */
function ownSources(ctx: PassContext): (path: string) => boolean {
  const own = new Set(ctx.config.sources.map((s) => s.name));
  return (path) => own.has(path.slice(0, path.indexOf("/")));
}

/** A file's versions once the plan has archived its latest copy (`arch`). */
function plannedVersions(path: string, copies: StoredCopy[], arch: Archive): DatedVersion[] {
  const latest = copies.find((c) => c.id === arch.copyId);
  return [...copies.filter(isVersion).map(datedVersion), {
    path,
    copyId: arch.copyId,
    seq: arch.seq,
    validFrom: latest?.validFrom ?? Date.now(),
  }];
}

function isVersion(c: StoredCopy): boolean {
  return c.location === "version";
}

/** A stored copy as retention's rule reads it. */
function datedVersion(c: StoredCopy): DatedVersion {
  const { path, id: copyId, seq, validFrom } = c;
  return { path, copyId, seq, validFrom };
}
