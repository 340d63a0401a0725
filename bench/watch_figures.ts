// The pure part of the watch scenarios (watch.ts): reading a process's CPU time and peak memory
// from /proc texts, the files a latency rep rewrites, and the figures and verdicts against issue
// #5's targets (a saved file backed up within debounce + 200 ms; idle CPU indistinguishable from
// zero). No disk access; nothing to leave behind.

import { content, type FileEntry, mix, type TreePlan } from "./gen.ts";
import { median } from "./measure.ts";

/** Target: a saved file's copy is in the backup within debounce + this many ms. */
export const LATENCY_LIMIT_MS = 200;

/**
 * Idle CPU counts as indistinguishable from zero below this share of one core: 0.1%, the
 * smallest non-zero %CPU that `ps` and `top` show (30 ms, 3 clock ticks at 100 Hz, in 30 s).
 * An idle `sleep`, measured the same way in the same window, is the reference.
 */
export const IDLE_SHARE_LIMIT = 0.001;

/** What a watch row measured (Row.watch), shown by report.ts's watchTable. */
export interface WatchFigures {
  kind: "latency" | "idle";
  /** latency: ms from a write's end to its new bytes at their backup path, less the debounce;
   *  idle: CPU ms (user + system) of the process over each window. */
  values: number[];
  /** latency: ms from a write's end to its pass's `--json` line, less the debounce. */
  reportedMs?: number[];
  /** idle: clock ticks (utime + stime) over each window. */
  ticks?: number[];
  debounceMs?: number;
  windowS?: number;
  ticksPerS?: number;
  /** The target's bound in ms (latency: each value ≤ it; idle: each window's CPU < it). */
  limitMs?: number;
  met?: boolean;
}

/** utime + stime, in clock ticks, from the text of /proc/<pid>/stat (all of its threads). */
export function cpuTicks(statText: string): number {
  // The command name (field 2) is in parentheses and may hold spaces or ')': fields are counted
  // from the last ')'. After it: state (3), …, utime (14) and stime (15).
  const rest = statText.slice(statText.lastIndexOf(")") + 2).split(" ");
  const utime = Number(rest[14 - 3]), stime = Number(rest[15 - 3]);
  if (!Number.isInteger(utime) || !Number.isInteger(stime)) {
    throw new Error(`Cannot read CPU times from /proc stat: '${statText.slice(0, 80)}'`);
  }
  return utime + stime;
}

/** The peak resident set size (VmHWM) in MiB from the text of /proc/<pid>/status. */
export function peakRssMiB(statusText: string): number {
  const kib = statusText.match(/^VmHWM:\s*(\d+)\s*kB/m)?.[1];
  return kib === undefined ? NaN : Number(kib) / 1024;
}

/**
 * The files a latency rep rewrites, `count` of them, evenly spaced through the tree: ordinary
 * files (`f<i>.<ext>`, 64 KiB at most) whose content no other path holds, so that new bytes
 * written there are stored at the file's own path in the backup.
 */
export function latencyPicks(plan: TreePlan, count: number): FileEntry[] {
  const holders = new Map<number, number>();
  for (const f of plan.files) holders.set(f.seed, (holders.get(f.seed) ?? 0) + 1);
  const own = plan.files.filter((f) =>
    /(^|\/)f\d+\.[^/]+$/.test(f.path) && f.size <= 64 * 1024 && holders.get(f.seed) === 1
  );
  if (own.length < count) throw new Error(`The tree has only ${own.length} files to rewrite`);
  return Array.from({ length: count }, (_, i) => own[Math.floor((i * own.length) / count)]);
}

/** New bytes for the n-th write of a session: no file of the tree holds them (a fresh seed). */
export function newContent(f: FileEntry, n: number): Uint8Array {
  return content(mix(f.seed ^ 0x5a7ed, n + 1), f.size).slice(); // content() reuses its buffer
}

/** Latency figures: met when every write's copy came within debounce + LATENCY_LIMIT_MS. */
export function latencyFigures(
  overMs: number[],
  reportedMs: number[],
  debounceMs: number,
): WatchFigures {
  return {
    kind: "latency",
    values: overMs,
    reportedMs,
    debounceMs,
    limitMs: LATENCY_LIMIT_MS,
    met: overMs.length > 0 && overMs.every((ms) => ms <= LATENCY_LIMIT_MS),
  };
}

/**
 * Idle figures from the clock ticks of each window. `judged`: whether the target applies (the
 * tool's rows; not the reference's): met when every window stayed under IDLE_SHARE_LIMIT.
 */
export function idleFigures(
  ticks: number[],
  ticksPerS: number,
  windowS: number,
  judged: boolean,
): WatchFigures {
  const values = ticks.map((t) => (t * 1000) / ticksPerS);
  const limitMs = windowS * 1000 * IDLE_SHARE_LIMIT;
  return {
    kind: "idle",
    values,
    ticks,
    windowS,
    ticksPerS,
    ...(judged ? { limitMs, met: values.length > 0 && values.every((ms) => ms < limitMs) } : {}),
  };
}

/** The watch table's median, max, target and met cells for one row's figures. */
export function figureCells(w: WatchFigures): [string, string, string, string] {
  const empty = w.values.length === 0;
  const pick = (f: (xs: number[]) => number) => (xs: number[]) => empty ? NaN : f(xs);
  const med = pick(median), max = pick((xs) => Math.max(...xs));
  const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : "—");
  const ticks = (x: number, msValue: number) =>
    Number.isFinite(x) ? `${x.toFixed(x % 1 ? 1 : 0)} (${ms(msValue)})` : "—";
  const [medCell, maxCell] = w.kind === "latency"
    ? [ms(med(w.values)), ms(max(w.values))]
    : [ticks(med(w.ticks ?? []), med(w.values)), ticks(max(w.ticks ?? []), max(w.values))];
  if (w.limitMs === undefined) return [medCell, maxCell, "—", "—"];
  const met = empty ? "—" : w.met ? "yes" : "no";
  const target = w.kind === "latency"
    ? `≤ ${w.limitMs} ms`
    : `< ${w.limitMs.toFixed(0)} ms (${IDLE_SHARE_LIMIT * 100}% of a core)`;
  return [medCell, maxCell, target, met];
}
