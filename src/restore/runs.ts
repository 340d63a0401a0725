/**
 * The backup's runs for `history` without a path, as data (`--json`) and as an aligned
 * table, oldest first: when each began and ended (the end is the moment `restore --at`
 * takes for the tree as that run left it), how it ended, and what it did. Pure formatting
 * over the state's `runs` rows (run_queries.ts); nothing is written, so an interruption
 * leaves nothing.
 */
import type { RecordedRun } from "../state/run_queries.ts";
import { formatBytes } from "../core/format_bytes.ts";
import { formatTable } from "../core/format_table.ts";
import { oneLine } from "../log/one_line.ts";

/** How a run ended, in the words the table and `--json` use. */
type RunOutcome =
  | "finished"
  | "finished with problems"
  | "stopped"
  | "failed"
  | "interrupted"
  | "running"
  | "watching";

export interface RunEntry {
  run: number;
  /** `run`, `watch`, `verify` (a `verify --repair`) or `purge`. */
  command: string;
  startedAt: string;
  /** Null while it runs, and for one killed (its last recorded time is not kept). */
  endedAt: string | null;
  outcome: RunOutcome;
  /**
   * It ended short (stopped, failed, interrupted) after recording part of its work: from
   * then until a later run finished, the backup held its new files beside older ones.
   */
  cutShort: boolean;
  /**
   * Its counts by action, as its summary line gave them; null when it did not end itself,
   * or failed (a failed run records the zeros it started from, whatever it did).
   */
  counts: Record<string, number> | null;
  bytesCopied: number | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Who holds the backup root's lock now, as `history` asks it (lock.ts). */
export interface Holder {
  /** When it took the lock (ms), where its record says so. */
  startedMs?: number;
}

/**
 * The entries of the state's runs; `holder`: a run, watch session or repair that holds the
 * backup root's lock now. The newest run, if it has not ended and began once the lock was
 * taken, is that one (a session that took the lock has not always made its row yet: an
 * older one, killed, is not taken for it).
 */
export function runEntries(runs: RecordedRun[], holder?: Holder): RunEntry[] {
  const newest = runs.at(-1);
  const liveId = newest && holder && newest.finishedAt === null &&
      newest.startedAt >= (holder.startedMs ?? -Infinity)
    ? newest.id
    : undefined;
  return runs.map((r) => {
    const live = r.id === liveId;
    const outcome = outcomeOf(r.status, live);
    // A run that failed records the counts it began with (backup.ts), not what it did.
    const summary = outcome === "failed" ? null : r.summary;
    return {
      run: r.id,
      command: r.command,
      startedAt: iso(r.startedAt),
      endedAt: r.finishedAt === null ? null : iso(r.finishedAt),
      outcome,
      cutShort: !live && r.cutShort,
      counts: summary?.counts ?? null,
      bytesCopied: summary?.bytesCopied ?? null,
    };
  });
}

function outcomeOf(status: string, live: boolean): RunOutcome {
  const ended = status.replace(/ after commit$/, "");
  switch (ended) {
    case "ok":
      return "finished";
    case "partial":
      return "finished with problems";
    case "stopped":
    case "failed":
      return ended;
    case "following":
      return live ? "watching" : "interrupted";
    default: // running, committed: killed unless it holds the lock now
      return live ? "running" : "interrupted";
  }
}

/** Counts shown as columns: the action each counts, under the summary line's word. */
const COUNT_COLUMNS: [header: string, action: string][] = [
  ["NEW", "backup"],
  ["DUPLICATE", "duplicate"],
  ["UPDATED", "modified"],
  ["DELETED", "delete"],
  ["PRUNED", "prune"],
  ["FAILED", "failed"],
];

export function formatRuns(root: string, entries: RunEntry[]): string {
  const rows = entries.map((e) => [
    String(e.run),
    e.command === "verify" ? "repair" : e.command,
    e.startedAt,
    e.endedAt ?? "-",
    e.cutShort ? `${e.outcome} part-way` : e.outcome,
    ...COUNT_COLUMNS.map(([, action]) => e.counts ? String(e.counts[action] ?? 0) : "-"),
    e.bytesCopied === null ? "-" : formatBytes(e.bytesCopied),
  ]);
  const header = [
    "RUN",
    "KIND",
    "STARTED",
    "ENDED",
    "OUTCOME",
    ...COUNT_COLUMNS.map(([h]) => h),
    "COPIED",
  ];
  const count = `${entries.length} run${entries.length === 1 ? "" : "s"}`;
  return [
    oneLine(`Runs of backup '${root}' (${count}, oldest first)`),
    ...formatTable(header, rows),
    ...notes(entries),
  ].join("\n");
}

function notes(entries: RunEntry[]): string[] {
  const lines = [
    "'restore --at' a run's ENDED time gives the tree as that run left it.",
  ];
  if (entries.some((e) => e.cutShort)) {
    lines.push(
      "A run 'part-way' ended after recording part of its work: until a later run finished, " +
        "the backup held its new files beside older ones; for a whole tree, give the ENDED " +
        "time of a finished run.",
    );
  }
  return lines;
}
