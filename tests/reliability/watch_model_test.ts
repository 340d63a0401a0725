/**
 * Model-based test of `watch`. A watch session runs as a child process through the real CLI
 * (debounce 50 ms, no periodic rescan: events alone must do it) on the history model's
 * source (history_model_source.ts: create, modify, touch, chmod, delete, re-create, renames
 * of files and folders, file <-> folder, file <-> symlink, duplicates...), which goes
 * through seeded random rounds of 1–6 mutations at two paces:
 *
 * - settled: a round, then wait until the watch has caught up;
 * - burst: 2–5 rounds back to back, each after no pause, a random pause of up to three
 *   debounce periods, or a sign that a pass is under way (its state's write-ahead log or
 *   its staging folder changing), so that mutations land in the middle of passes; then
 *   wait until the watch has caught up.
 *
 * "Caught up" is polled, never slept for: the backup holds the source exactly (contents,
 * modes and mtimes, from the state and the stored bytes: model_checks.ts `syncProblems`,
 * independent of the tool), within a generous deadline. The moment right after is the
 * model's moment. At the end the session is stopped with SIGINT (exit 0, docs/watch.md),
 * every moment is restored with `restore --at` and compared exactly as the history model
 * does (bytes, modes, mtimes, symlink targets, nothing more: see `Trees` for the metadata of
 * a content changed between moments), `verify` is clean and one `run` changes nothing.
 *
 * Not modelled: the mass-deletion guard (max_delete_percent 100), retention (nothing is
 * pruned), and symlinks that lead out of the source, whose events Deno drops (docs/watch.md,
 * "Known limits"): the source makes them lead nowhere instead. Deno also stops reporting
 * events in a folder now and then after folders are moved around it (seed 8 with 120
 * rounds; docs/watch.md, "Known limits": the next full rescan catches them): a session not
 * caught up after MISSED_MS is started again, said in the journal and counted, and its
 * successor's first pass must catch up; more than MISSED_ALLOWED such restarts fail the
 * test, and WATCH_MODEL_STRICT=1 fails at the first.
 *
 * RELIABILITY_SEED=<n> replays a seed; WATCH_MODEL_ROUNDS=<n> sets the round count;
 * WATCH_MODEL_RESCAN=<s> adds periodic rescans, racing the rounds too (a moment a rescan
 * spans is then restored with what it read after it: docs/restore.md's known limit of copies
 * recorded as of their pass's start, open; seeds 75, 78 and 84 of 120 rounds with
 * WATCH_MODEL_RESCAN=1); WATCH_MODEL_KEEP=<dir> keeps a failing case's folders there.
 */
import { join } from "node:path";
import { type Fixture, makeFixture } from "../helpers.ts";
import { WatchProcess } from "../watch_helpers.ts";
import { type Rng, rng, runTool, suiteSeed } from "./util.ts";
import { Source } from "./history_model_source.ts";
import { type Entry, snapshotTree, type Tree } from "./history_model_tree.ts";
import { assertQuietEnd, type Moment, restoreProblems, syncProblems } from "./model_checks.ts";

const DEBOUNCE_MS = 50;
/** How long the watch may take to catch up with a round: generous, the machine is shared. */
const CATCH_UP_MS = 30_000;
/** Not caught up by then, the session missed events: it is started again (or, strict, fails). */
const MISSED_MS = 10_000;
/**
 * Sessions started again after missed events that a run tolerates: one, for Deno's known
 * loss (seed 8 needs it); more than that hides the tool's own misses (a fix of 2026-12-05
 * showed only in strict mode), so it fails, as strict mode fails at the first.
 */
const MISSED_ALLOWED = 1;
const ROUNDS = Number(Deno.env.get("WATCH_MODEL_ROUNDS") ?? 0) || 60;
const STRICT = Deno.env.get("WATCH_MODEL_STRICT") === "1";
/** Seconds between periodic rescans (0: none, events alone must do it), to race them too. */
const RESCAN_S = Number(Deno.env.get("WATCH_MODEL_RESCAN") ?? 0);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** WATCH_MODEL_KEEP=DIR: a failing case's folders are copied there to look at. */
function keep(fx: Fixture): void {
  const to = Deno.env.get("WATCH_MODEL_KEEP");
  if (to) new Deno.Command("cp", { args: ["-a", fx.dir, to] }).outputSync();
}

/** What changes as a pass writes: the state's write-ahead log, the staging folder. */
function passMarks(backup: string): string {
  const marks: string[] = [];
  for (const name of ["state.db-wal", "state.db", "tmp"]) {
    try {
      const info = Deno.statSync(join(backup, ".backup-tool", name));
      marks.push(`${info.size}:${info.mtime?.getTime()}`);
    } catch {
      marks.push("-");
    }
  }
  return marks.join(" ");
}

/**
 * The watch session under test, as a child process through the real CLI. One that has not
 * caught up within MISSED_MS missed events (Deno loses some: see the module comment) and is started
 * again: stopped with SIGINT (exit 0), its successor's first pass catches up.
 */
class Watching implements AsyncDisposable {
  #w: WatchProcess;
  #exited = false;

  constructor(readonly fx: Fixture) {
    this.#w = this.#start();
  }

  #start(): WatchProcess {
    const w = new WatchProcess(this.fx, ["--json"]);
    w.ended.then(() => this.#exited ||= this.#w === w);
    return w;
  }

  get process(): WatchProcess {
    return this.#w;
  }

  ready(): Promise<void> {
    return this.#w.ready();
  }

  /** Waits until the backup holds the source exactly (polled every 20 ms): its time. */
  async caughtUp(onMissed: (problems: string[]) => void): Promise<number> {
    const started = Date.now();
    let restarted = false;
    for (;;) {
      let problems: string[];
      try {
        problems = syncProblems(this.fx);
      } catch (e) {
        problems = [`the state could not be read: ${(e as Error).message}`];
      }
      if (problems.length === 0) return Date.now();
      if (this.#exited) {
        const { code, signal } = await this.#w.stop();
        throw new Error(`the watch exited (code ${code}, signal ${signal}):\n${this.#w.stderr}`);
      }
      const waited = Date.now() - started;
      if (!restarted && waited > MISSED_MS && !STRICT) {
        onMissed(problems);
        await this.#restart();
        restarted = true;
      } else if (waited > (STRICT ? MISSED_MS : CATCH_UP_MS)) {
        throw new Error(
          `the watch did not catch up within ${waited} ms${restarted ? ", started again" : ""}:` +
            `\n  ${problems.join("\n  ")}\nstderr: ${this.#w.stderr}\nlog (end):\n  ` +
            this.fx.logLines().slice(-30).join("\n  "),
        );
      }
      await sleep(20);
    }
  }

  /** Stops the session with SIGINT (exit 0 expected). */
  async stop(): Promise<void> {
    const exit = await this.#w.stop("SIGINT");
    if (exit.code !== 0) throw new Error(`SIGINT: exit ${exit.code}\n${exit.stderr}`);
  }

  async #restart(): Promise<void> {
    await this.stop();
    await this.#w[Symbol.asyncDispose]();
    this.#exited = false;
    this.#w = this.#start();
    await this.#w.ready();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#w[Symbol.asyncDispose]();
  }
}

/** The pause before the next round of a burst: none, a random one, or until a pass shows. */
async function burstPause(fx: Fixture, r: Rng): Promise<string> {
  const x = r.next();
  if (x < 0.3) return "no pause";
  if (x < 0.6) {
    const ms = r.int(0, 3 * DEBOUNCE_MS);
    await sleep(ms);
    return `random pause (${ms} ms)`;
  }
  const before = passMarks(fx.backup);
  const until = Date.now() + 10 * DEBOUNCE_MS;
  while (Date.now() < until) {
    await sleep(2);
    if (passMarks(fx.backup) !== before) return "a pass under way";
  }
  return "no pass seen";
}

const sameContent = (a: Entry | undefined, b: Entry | undefined) =>
  a !== undefined && b !== undefined && a.kind === b.kind && a.hash === b.hash;

/**
 * The source's trees after every mutation (`seen`: the index of each moment's among them).
 * What a moment's file is restored with: its bytes, and the mode and mtime it had then or,
 * where a pass saw the same content there later (docs/restore.md's known limit: a metadata
 * change updates the content's recorded metadata in place), at any later tree up to the next
 * moment that holds no such content. Between moments the watch may or may not have seen the
 * path deleted, or holding another content, in between: seen, the same content came back as
 * a new copy, and the earlier one keeps its own metadata.
 */
class Trees {
  readonly all: Tree[] = [];
  readonly seen: number[] = [];

  add(tree: Tree): void {
    this.all.push(tree);
  }

  moment(): void {
    this.seen.push(this.all.length - 1);
  }

  alsoRight = (k: number, path: string): Entry[] => {
    const e = this.all[this.seen[k]].get(path);
    const moments = new Set(this.seen);
    const out: Entry[] = [];
    for (let i = this.seen[k]; i < this.all.length; i++) {
      const later = this.all[i].get(path);
      if (sameContent(later, e)) out.push(later!);
      else if (moments.has(i)) break; // the watch had caught up: this content is gone
    }
    return out;
  };
}

async function watchModel(seed: number, rounds: number): Promise<void> {
  const r = rng(seed);
  const replay = `seed ${seed} (RELIABILITY_SEED=${seed} replays it)`;
  using fx = makeFixture({}, {
    watch: { debounce_ms: DEBOUNCE_MS, rescan_interval: RESCAN_S },
    retention: { max_versions_per_file: 1000 },
    safety: { max_delete_percent: 100 },
    log_retention: 1000,
  });
  const cli = (...args: string[]) =>
    runTool([...args, "--config", fx.config], { timeoutMs: 60_000 });
  const src = new Source(fx.source, r, 2, true);
  const journal: string[] = src.seed().map((l) => `round 0: ${l}`);
  const trees = new Trees();
  trees.add(snapshotTree(fx.source));
  const moments: Moment[] = [];
  const paces = new Map<string, number>();
  const count = (what: string) => paces.set(what, (paces.get(what) ?? 0) + 1);
  const fail = (what: string): never => {
    keep(fx);
    throw new Error(`${replay}: ${what}\nmutations:\n  ${journal.join("\n  ")}`);
  };
  try {
    await using w = new Watching(fx);
    await w.ready();
    let missed = 0;
    const settle = async (label: string) => {
      const time = await w.caughtUp((problems) => {
        missed++;
        journal.push(`${label}: not caught up after ${MISSED_MS} ms, watch started again:`);
        journal.push(...problems.map((p) => `    ${p}`));
      });
      moments.push({ time, tree: trees.all[trees.all.length - 1] });
      trees.moment();
      journal.push(`${label}: caught up (moment ${moments.length - 1})`);
    };
    await settle("round 0");
    let round = 1;
    while (round <= rounds) {
      const burst = r.next() < 0.5 ? Math.min(r.int(2, 5), rounds - round + 1) : 1;
      count(burst > 1 ? "bursts" : "settled rounds");
      moments[moments.length - 1].before = Date.now();
      for (let i = 0; i < burst; i++, round++) {
        if (i > 0) {
          const pause = await burstPause(fx, r);
          count(pause.replace(/ \(.*/, ""));
          journal.push(`round ${round}: after ${pause}`);
        }
        const n = r.int(1, 6);
        for (let j = 0; j < n; j++) {
          journal.push(`round ${round}: ${src.mutate()[1]}`);
          trees.add(snapshotTree(fx.source));
        }
      }
      try {
        await settle(`round ${round - 1}`);
      } catch (e) {
        fail((e as Error).message);
      }
    }
    await w.stop();
    journal.push("watch stopped (SIGINT)");
    if (missed > MISSED_ALLOWED) {
      fail(
        `the watch missed events ${missed} times (started again each time; at most ` +
          `${MISSED_ALLOWED} is Deno's known loss)`,
      );
    }

    const restored = await restoreProblems(moments, {
      cli,
      dir: fx.dir,
      r,
      maxVersions: 1000,
      alsoRight: trees.alsoRight,
    });
    if (restored.problems.length > 0) {
      fail(`restore differs from the model:\n  ${restored.problems.join("\n  ")}`);
    }
    if (restored.pruned > 0) fail(`${restored.pruned} paths reported pruned`);
    await assertQuietEnd(cli, moments[moments.length - 1].tree, replay);
    console.log(
      `  ${replay}: ${rounds} rounds, ${moments.length} moments, ${restored.restores} ` +
        `restores, ${missed} started again after missed events; ` +
        [...paces].map(([k, v]) => `${k} ${v}`).join(", "),
    );
  } catch (e) {
    if (e instanceof Error && !e.message.includes("mutations:")) {
      keep(fx);
      e.message += `\n${replay}\nmutations:\n  ${journal.join("\n  ")}`;
    }
    throw e;
  }
}

Deno.test("watch model: every caught-up moment of a watch session restores exactly", async () => {
  await watchModel(suiteSeed(31), ROUNDS);
});
