// The watch scenarios: `watch/latency` and `watch/idle`, for the tools that have a watch mode
// (ours, ours@REV). Each works in <run dir>/watch-<slug>/: `src/` is a private copy of the tree
// (the latency reps write to it), and every tool has a baseline backup of it (an untimed `run`)
// before its first session, so that each rep's session starts as a restarted service does: its
// first pass finds nothing changed.
//
//   latency  a session with watch.debounce_ms = DEBOUNCE_MS; once its log says `Watch started`,
//            WRITES files are rewritten with new bytes one at a time. For each, the time from the
//            write's end until those bytes are at the file's backup path (polled every POLL_MS),
//            less the debounce; the next write waits for the pass's `--json` line, so each is a
//            pass of its own.
//   idle     a session left alone for IDLE_WINDOW_S once SETTLE_MS have passed after `Watch
//            started`; its CPU time (utime + stime in /proc/<pid>/stat) over that window, and
//            that of a `sleep` started before it, measured over the same window: the reference.
//
// Each session is stopped with SIGINT and waited for (a row is FAILED when it does not exit 0
// within STOP_DEADLINE_MS: it is then killed); the sleep is killed and waited for. The scratch
// folder is removed afterwards (unless --keep). An interrupted bench (its `stop` aborted) kills
// both with SIGTERM, which ends a session cleanly too.

import { join } from "node:path";
import type { TreePlan } from "./gen.ts";
import { copyTree, emptyDir, flush, median, rmrf, run, stop } from "./measure.ts";
import type { Row, Scenario } from "./scenarios.ts";
import type { Tool, ToolCtx } from "./tools.ts";
import {
  cpuTicks,
  idleFigures,
  latencyFigures,
  latencyPicks,
  newContent,
  peakRssMiB,
  type WatchFigures,
} from "./watch_figures.ts";

export const DEBOUNCE_MS = 200;
export const WRITES = 20;
export const POLL_MS = 5;
export const IDLE_WINDOW_S = 30;
const SETTLE_MS = 2000;
/** Waits that fail a row: the machine is small and shared, so generous. */
const START_DEADLINE_MS = 300_000;
const COPY_DEADLINE_MS = 30_000;
const STOP_DEADLINE_MS = 60_000;
/** How long ours distrusts a fingerprint after a change (RACY_WINDOW_MS in src/engine/batch.ts). */
const RACY_WINDOW_MS = 2000;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function log(id: string, msg: string) {
  console.error(`[${id}] ${msg}`);
}

/** A running `watch --json`: its stdout lines with their arrival times, its stderr. */
class Session {
  readonly lines: number[] = []; // performance.now() at each stdout line's arrival
  stderr = "";
  readonly #child: Deno.ChildProcess;
  readonly #readers: Promise<void>[];
  #exited = false;

  constructor(cmd: { argv: string[]; env?: Record<string, string>; cwd?: string }) {
    stop.signal.throwIfAborted();
    const [bin, ...args] = cmd.argv;
    this.#child = new Deno.Command(bin, {
      args,
      env: cmd.env,
      cwd: cmd.cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: stop.signal,
    }).spawn();
    this.#child.status.then(() => this.#exited = true);
    const onStdout = (t: string) => {
      const now = performance.now();
      for (const _ of t.matchAll(/\n/g)) this.lines.push(now);
    };
    this.#readers = [
      collect(this.#child.stdout, onStdout),
      collect(this.#child.stderr, (t) => this.stderr += t),
    ];
  }

  get pid(): number {
    return this.#child.pid;
  }

  /** Polls `done` every `everyMs` until it holds; returns performance.now() then. */
  async until(what: string, done: () => boolean, deadlineMs: number, everyMs = 20) {
    const end = performance.now() + deadlineMs;
    for (;;) {
      if (done()) return performance.now();
      if (this.#exited) throw new Error(`The watch exited before ${what}: ${this.#stderrLine()}`);
      if (performance.now() > end) throw new Error(`No ${what} within ${deadlineMs / 1000} s`);
      await pause(everyMs);
    }
  }

  /** Sends SIGINT and waits for the exit; throws unless it exits 0 in time (then it is killed). */
  async stop(): Promise<void> {
    if (!this.#exited) this.#child.kill("SIGINT");
    const late = Symbol("late");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const status = await Promise.race([
      this.#child.status,
      new Promise<symbol>((resolve) => timer = setTimeout(resolve, STOP_DEADLINE_MS, late)),
    ]);
    clearTimeout(timer);
    if (status === late) this.#child.kill("SIGKILL");
    const { code } = await this.#child.status;
    await Promise.all(this.#readers);
    if (status === late) {
      throw new Error(
        `The watch did not stop within ${STOP_DEADLINE_MS / 1000} s of SIGINT: killed`,
      );
    }
    if (code !== 0) throw new Error(`The watch exited ${code} on SIGINT: ${this.#stderrLine()}`);
  }

  #stderrLine(): string {
    return this.stderr.split("\n").find((l) => l.trim()) ?? "(nothing on stderr)";
  }
}

async function collect(stream: ReadableStream<Uint8Array>, add: (t: string) => void) {
  for await (const text of stream.pipeThrough(new TextDecoderStream())) add(text);
}

/** `Watch started` lines in the session logs (`<time>-watch.log`) of logDir. */
function startedCount(logDir: string): number {
  let n = 0;
  try {
    for (const e of Deno.readDirSync(logDir)) {
      if (!e.name.endsWith("-watch.log")) continue;
      const text = Deno.readTextFileSync(join(logDir, e.name));
      n += text.split("\n").filter((l) => /^\S+ Watch started/.test(l)).length; // after its time
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return n;
}

/** Starts a session of `t` and waits for its `Watch started`. */
async function startSession(t: Tool, ctx: ToolCtx): Promise<Session> {
  const { cmd, logDir } = await t.watch!(ctx, DEBOUNCE_MS);
  const before = startedCount(logDir);
  const session = new Session(cmd);
  try {
    await session.until(
      "'Watch started' in its log",
      () => startedCount(logDir) > before,
      START_DEADLINE_MS,
    );
  } catch (e) {
    await session.stop().catch(() => {});
    throw e;
  }
  return session;
}

/** Whether the backup holds exactly `bytes` for the source file `rel`. */
function backupHolds(t: Tool, dst: string, rel: string, bytes: Uint8Array): boolean {
  return (t.locate?.(rel) ?? [rel]).some((r) => {
    try {
      const got = Deno.readFileSync(join(dst, r));
      return got.length === bytes.length && got.every((b, i) => b === bytes[i]);
    } catch {
      return false;
    }
  });
}

/**
 * One latency session: WRITES files rewritten, one pass each; ms beyond the debounce for each.
 * `sessionNo`: this session's number in the scenario (all tools share the source), so that no
 * write puts back bytes a file held before.
 */
async function latencyRep(t: Tool, ctx: ToolCtx, plan: TreePlan, sessionNo: number) {
  const over: number[] = [], reported: number[] = [];
  let rssMiB = NaN;
  const session = await startSession(t, ctx);
  try {
    for (const [i, f] of latencyPicks(plan, WRITES).entries()) {
      const bytes = newContent(f, sessionNo * WRITES + i);
      const linesBefore = session.lines.length;
      await Deno.writeFile(join(ctx.src, f.path), bytes);
      const written = performance.now();
      const seen = await session.until(
        `copy of '${f.path}' in the backup`,
        () => backupHolds(t, ctx.dst, f.path, bytes),
        COPY_DEADLINE_MS,
        POLL_MS,
      );
      await session.until(
        "--json line for its pass",
        () => session.lines.length > linesBefore,
        COPY_DEADLINE_MS,
      );
      over.push(seen - written - DEBOUNCE_MS);
      reported.push(session.lines[session.lines.length - 1] - written - DEBOUNCE_MS);
    }
    rssMiB = procFigures(session.pid).rssMiB;
  } finally {
    await session.stop();
  }
  return { over, reported, rssMiB };
}

/** /proc/<pid>/stat's CPU ticks and /proc/<pid>/status's peak RSS of a running process. */
function procFigures(pid: number): { ticks: number; rssMiB: number } {
  return {
    ticks: cpuTicks(Deno.readTextFileSync(`/proc/${pid}/stat`)),
    rssMiB: peakRssMiB(Deno.readTextFileSync(`/proc/${pid}/status`)),
  };
}

/** One idle rep: the session's and a sleep's CPU ticks over the same IDLE_WINDOW_S. */
async function idleRep(t: Tool, ctx: ToolCtx) {
  const sleeper = new Deno.Command("sleep", {
    args: ["86400"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
    signal: stop.signal,
  }).spawn();
  try {
    const session = await startSession(t, ctx);
    try {
      await pause(SETTLE_MS);
      const [ours0, ref0] = [procFigures(session.pid), procFigures(sleeper.pid)];
      await pause(IDLE_WINDOW_S * 1000);
      const [ours1, ref1] = [procFigures(session.pid), procFigures(sleeper.pid)];
      return {
        ours: { ticks: ours1.ticks - ours0.ticks, rssMiB: ours1.rssMiB },
        ref: { ticks: ref1.ticks - ref0.ticks, rssMiB: ref1.rssMiB },
      };
    } finally {
      await session.stop();
    }
  } finally {
    try {
      sleeper.kill("SIGTERM");
    } catch { /* already ended */ }
    await sleeper.status;
  }
}

/** What a tool's (or the reference's) reps measured, over all reps. */
interface Tally {
  over: number[];
  reported: number[];
  ticks: number[];
  rssMiB: number[];
  failed?: string;
}

const newTally = (): Tally => ({ over: [], reported: [], ticks: [], rssMiB: [] });

export async function runWatchScenario(
  sc: Scenario,
  plan: TreePlan,
  treeDir: string,
  tools: Tool[],
  { runs, keep, runDir }: { runs: number; keep: boolean; runDir: string },
): Promise<Row[]> {
  const active = tools.filter((t) => t.watch !== undefined);
  if (active.length === 0) return [];
  const scDir = join(runDir, sc.id.replace("/", "-"));
  await emptyDir(scDir);
  const src = join(scDir, "src");
  await copyTree(treeDir, src);
  await pause(RACY_WINDOW_MS + 100); // the copy's files are not read again by every first pass

  const ctxs = new Map<Tool, ToolCtx>();
  const tallies = new Map<Tool, Tally>(active.map((t) => [t, newTally()]));
  const reference = newTally(); // the sleep beside each idle session
  for (const t of active) {
    const dir = join(scDir, t.name, "state");
    const ctx = { src, dst: join(dir, "dst"), dir };
    ctxs.set(t, ctx);
    log(sc.id, `baseline ${t.name}`);
    await Deno.mkdir(ctx.dst, { recursive: true });
    await t.init(ctx);
    await run(t.command(ctx)).catch((e) =>
      tallies.get(t)!.failed = `baseline: ${(e as Error).message}`
    );
  }
  await flush();

  for (let rep = 0; rep < runs; rep++) {
    for (const t of active) {
      const tally = tallies.get(t)!;
      if (tally.failed) continue;
      const what = `rep ${rep + 1}/${runs} ${t.name}`;
      try {
        if (sc.watch === "latency") {
          const sessionNo = rep * active.length + active.indexOf(t);
          const r = await latencyRep(t, ctxs.get(t)!, plan, sessionNo);
          tally.over.push(...r.over);
          tally.reported.push(...r.reported);
          tally.rssMiB.push(r.rssMiB);
          log(sc.id, `${what}: ${summary(r.over)} ms beyond the debounce`);
        } else {
          const r = await idleRep(t, ctxs.get(t)!);
          tally.ticks.push(r.ours.ticks);
          tally.rssMiB.push(r.ours.rssMiB);
          reference.ticks.push(r.ref.ticks);
          reference.rssMiB.push(r.ref.rssMiB);
          log(sc.id, `${what}: ${r.ours.ticks} clock ticks idle, sleep ${r.ref.ticks}`);
        }
      } catch (e) {
        tally.failed = (e as Error).message;
        log(sc.id, `${what}: FAILED: ${tally.failed}`);
      }
    }
  }
  if (!keep) await rmrf(scDir);
  if (sc.watch === "latency") {
    return active.map((t) => {
      const { over, reported } = tallies.get(t)!;
      return rowOf(sc, t.name, tallies.get(t)!, latencyFigures(over, reported, DEBOUNCE_MS));
    });
  }
  const ticksPerS = Number((await run({ argv: ["getconf", "CLK_TCK"] })).trim()) || 100;
  const idleOf = (tally: Tally, judged: boolean) =>
    idleFigures(tally.ticks, ticksPerS, IDLE_WINDOW_S, judged);
  return [
    ...active.map((t) => rowOf(sc, t.name, tallies.get(t)!, idleOf(tallies.get(t)!, true))),
    rowOf(sc, "sleep", reference, idleOf(reference, false)),
  ];
}

function rowOf(sc: Scenario, tool: string, tally: Tally, watch: WatchFigures): Row {
  return {
    id: sc.id,
    tree: sc.tree,
    scenario: sc.label,
    tool,
    status: tally.failed ? "FAILED" : "ok",
    note: tally.failed,
    samples: [],
    wall: NaN,
    cpu: NaN,
    rssMiB: tally.rssMiB.length ? Math.max(...tally.rssMiB) : NaN,
    watch,
  };
}

function summary(ms: number[]): string {
  return `median ${median(ms).toFixed(0)}, max ${Math.max(...ms).toFixed(0)}`;
}
