/**
 * Console output of `restore`: problems on stderr (each names the path and why), and
 * warnings for contents read from another stored copy than their own, the summary line, or
 * the `--json` document `{ ok, exitCode, at, restored, upToDate, failed }`.
 */
import type { RestoreResult } from "../restore/write.ts";
import { oneLine } from "../log/runlog.ts";

/** A PATH or content that could not be restored, and why. */
export interface Problem {
  /** The logical path (or the PATH as given, when it matched nothing). */
  path: string;
  version?: number;
  to?: string;
  kind: "not-found" | "pruned" | "lost" | "conflict" | "error";
  reason: string;
}

export function printRestore(
  results: RestoreResult[],
  earlier: Problem[],
  opts: { json: boolean; quiet: boolean; at?: number },
): number {
  const done = (o: RestoreResult["outcome"]) =>
    results.filter((r) => r.outcome === o).map((r) => ({
      path: r.copy.path,
      version: r.copy.seq,
      to: r.dest,
      ...r.note === undefined ? {} : { warning: r.note },
    }));
  const problems = [...earlier, ...results.filter((r) => r.reason !== undefined).map(toProblem)];
  const restored = done("restored");
  const upToDate = done("up-to-date");
  const exitCode = problems.length === 0 ? 0 : 1;
  if (opts.json) {
    console.log(JSON.stringify(
      {
        command: "restore",
        ok: exitCode === 0,
        exitCode,
        at: opts.at === undefined ? undefined : new Date(opts.at).toISOString(),
        restored,
        upToDate,
        failed: problems,
      },
      null,
      2,
    ));
    return exitCode;
  }
  for (const r of restored) {
    if (r.warning) console.error(oneLine(`WARNING: ${r.path} (v${r.version}): ${r.warning}`));
  }
  for (const p of problems) {
    const name = p.path === "" ? "" : ` ${p.path}${p.version ? ` (v${p.version})` : ""}:`;
    console.error(oneLine(`NOT RESTORED:${name} ${p.reason}`));
  }
  if (!opts.quiet || exitCode !== 0) {
    const title = exitCode === 0 ? "Restore complete" : "Restore incomplete";
    console.log(
      `${title}: ${restored.length} restored, ${upToDate.length} up to date, ` +
        `${problems.length} not restored`,
    );
  }
  return exitCode;
}

function toProblem(r: RestoreResult): Problem {
  return {
    path: r.copy.path,
    version: r.copy.seq,
    to: r.dest,
    kind: r.outcome === "conflict" ? "conflict" : "error",
    reason: r.reason!,
  };
}
