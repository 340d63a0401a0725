/**
 * Random SIGKILL rounds of `watch`, as an OOM killer or a power cut would end a service. A
 * tree of a few hundred files (kill_rounds_tree.ts: modified, appended, deleted, added,
 * renamed, duplicates, folders moved, a hot file appended to past
 * `max_versions_per_file`, so that retention prunes) is edited between rounds; each round
 * starts a watch session and kills it with SIGKILL at a seeded random moment in one of
 * these phases:
 *
 * - `start`: its first pass (the recovery of the session before, the full rescan that
 *   backs up the edits made meanwhile, retention's pruning of `_deleted/`: each session's
 *   clock is half a day ahead of the one before, with `keep_deleted_days` 1);
 * - `burst`: a burst of edits, made while its batches are applied, killed after a random
 *   number of the session's log lines (each batch writes its lines before its commit);
 * - `reload`: a config edit (an exclude pattern and `max_versions_per_file` toggled)
 *   with edits, killed before or after the session reloads it, in the full pass it runs;
 * - `rescan`: edits found by a periodic rescan (a debounce longer than the rescan interval),
 *   killed after a random number of its lines;
 * - `stopping`: a burst, then SIGTERM and, a random moment later, SIGKILL (a service
 *   manager's stop timeout): the session finishing its batch, or stopped already (exit 0).
 *
 * After every kill the backup root is checked as the crash left it (`crashStateProblems`:
 * never a partial file at a final name), and the committed state's copies are noted as
 * captured. At the end a NEW watch session must converge: the latest copies equal the source,
 * every captured content the tree wrote is still stored unless retention may have pruned
 * it, nothing is left in the journal nor in `.backup-tool/tmp`; stopped with SIGTERM it
 * exits 0 and frees the lock (a `run` after it has nothing to do), `verify` is clean and a
 * full `restore --to` equals the source.
 *
 * RELIABILITY_SEED=<n> replays a seed; WATCH_KILL_ROUNDS=<n> sets the round count (a long
 * hunt); the phases each round's kill landed in are printed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, makeFixture, poll, writeConfig } from "../helpers.ts";
import { WatchProcess } from "../watch_helpers.ts";
import { HOT, KillTree } from "./kill_rounds_tree.ts";
import {
  type BackupCheck,
  checkBackup,
  crashStateProblems,
  latestProblems,
  readState,
  type Rng,
  rng,
  runTool,
  snapshot,
  suiteSeed,
  tmpLeftovers,
} from "./util.ts";

const ROUNDS = Number(Deno.env.get("WATCH_KILL_ROUNDS") ?? 0) || 10;
const FILES = 300;
/** The smaller of the two `max_versions_per_file` the config is toggled between. */
const MAX_VERSIONS = 3;
const DAY = 86_400_000;
/** How long a kill waits for its log lines at most: then it lands wherever the session is. */
const KILL_WAIT_MS = 5_000;

type Phase = "start" | "burst" | "reload" | "rescan" | "stopping";

interface Settings {
  excluded: boolean;
  rescan: boolean;
  /** Whether the second source (`extra/`) is in the config: a reload adds or removes it. */
  extra: boolean;
}

function config(fx: Fixture, s: Settings): void {
  writeConfig(fx.config, {
    sources: s.extra ? ["./source", "./extra"] : ["./source"],
    backup_root: "./backup",
    log_dir: "./logs",
    exclude: s.excluded ? ["*.tmp"] : [],
    retention: { max_versions_per_file: s.excluded ? MAX_VERSIONS : 4, keep_deleted_days: 1 },
    safety: { max_delete_percent: 100 },
    // A rescan round's debounce outlasts the rescan interval: the rescan finds the edits.
    watch: s.rescan ? { debounce_ms: 3000, rescan_interval: 1 } : { debounce_ms: 50 },
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Where the latest copies of either source differ from it (`latestProblems`). */
function sourceProblems(fx: Fixture, check: BackupCheck): string[] {
  return ["source", "extra"].flatMap((name) => {
    const files = check.state.files.filter((f) => f.path.startsWith(`${name}/`));
    const only = { ...check, state: { ...check.state, files } };
    return latestProblems(join(fx.dir, name), fx.backup, only, name);
  });
}

/**
 * The log of the session with this pid, read as it grows: only what was added since the
 * last look is read (a first pass names every file, and kills poll every few ms).
 */
class SessionLog {
  #file: string | undefined;
  #offset = 0;
  #rest = "";
  readonly #lines: string[] = [];

  constructor(readonly fx: Fixture, readonly pid: number) {}

  /** Its lines so far, timestamps removed; [] before it is there. */
  lines(): string[] {
    this.#file ??= this.#find();
    if (this.#file === undefined) return this.#lines;
    using f = Deno.openSync(this.#file, { read: true });
    f.seekSync(this.#offset, Deno.SeekMode.Start);
    const buf = new Uint8Array(1 << 20);
    let text = "";
    for (let n = f.readSync(buf); n !== null && n > 0; n = f.readSync(buf)) {
      this.#offset += n;
      text += new TextDecoder().decode(buf.subarray(0, n), { stream: false });
    }
    const parts = (this.#rest + text).split("\n");
    this.#rest = parts.pop()!;
    for (const l of parts) if (l !== "") this.#lines.push(l.replace(/^\S+ /, ""));
    return this.#lines;
  }

  #find(): string | undefined {
    let names: string[];
    try {
      names = [...Deno.readDirSync(this.fx.logs)].map((e) => e.name).sort().reverse();
    } catch {
      return undefined;
    }
    const head = new Uint8Array(300);
    for (const name of names.slice(0, 3)) {
      const path = join(this.fx.logs, name);
      using f = Deno.openSync(path, { read: true });
      const n = f.readSync(head) ?? 0;
      if (new TextDecoder().decode(head.subarray(0, n)).includes(`pid ${this.pid})`)) return path;
    }
    return undefined;
  }
}

/** Waits until the session's log has `count` lines, or one matching `line`; false if late. */
async function logReaches(
  log: SessionLog,
  w: WatchProcess,
  until: { count?: number; line?: RegExp },
  ms = KILL_WAIT_MS,
): Promise<boolean> {
  let ended = false;
  w.ended.then(() => ended = true);
  for (const deadline = Date.now() + ms; Date.now() < deadline && !ended;) {
    const lines = log.lines();
    if (until.count !== undefined && lines.length >= until.count) return true;
    if (until.line && lines.some((l) => until.line!.test(l))) return true;
    await sleep(3);
  }
  return false;
}

/**
 * Edits while the session works: `n` random ones, a large file now and then (its copy
 * takes a while to stage), and the hot file appended to every few, after a pause longer
 * than the debounce at times, so that each append can be a version of its own.
 */
async function burst(tree: KillTree, r: Rng, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    tree.editOnce();
    if (r.next() < 0.03) tree.write(`big/b${r.int(0, 3)}.bin`, r.bytes(r.int(1 << 20, 3 << 20)));
    if (i % 4 === 0) {
      tree.append(HOT, r.bytes(r.int(1, 200)));
      await sleep(r.int(0, 120));
    }
  }
}

interface Round {
  phase: Phase;
  /** Whether the kill landed while the session still ran (else it had ended: a failure). */
  killed: boolean;
  /** A `stopping` session that ended by its SIGTERM before the SIGKILL came. */
  stopped: boolean;
  /** Whether its first pass went through, not held back by the clock guard. */
  vouched: boolean;
}

/** One session, killed in `phase` at a seeded random moment. */
async function round(
  fx: Fixture,
  tree: KillTree,
  r: Rng,
  phase: Phase,
  env: Record<string, string>,
): Promise<Round> {
  await using w = new WatchProcess(fx, ["--quiet"], env);
  const log = new SessionLog(fx, w.pid);
  if (phase === "start") {
    // Its first pass names every file (`log_unchanged`), a batch's lines at a time.
    await logReaches(log, w, { count: r.int(1, 600), line: /^Watch started/ });
    await sleep(r.int(0, 40));
  } else {
    await logReaches(log, w, { line: /^Watch started/ }, 30_000);
    const start = log.lines().length;
    if (phase === "reload") {
      config(fx, { excluded: r.next() < 0.5, rescan: false, extra: r.next() < 0.5 });
      await burst(tree, r, r.int(5, 30));
      if (r.next() < 0.3) await sleep(r.int(0, 8000));
      else {
        await logReaches(log, w, { line: /^NOTE: Config .* reloaded/ }, 15_000);
        const at = log.lines().length;
        await logReaches(log, w, { count: at + r.int(0, 40) });
      }
    } else {
      const edits = burst(tree, r, r.int(20, 80));
      const wait = phase === "rescan"
        ? logReaches(log, w, { line: /^RESCAN: periodic/ }).then(async () => {
          const at = log.lines().length;
          await logReaches(log, w, { count: at + r.int(0, 30) });
        })
        : r.next() < 0.5
        ? logReaches(log, w, { count: start + r.int(1, 80) })
        : sleep(r.int(0, 1500));
      await Promise.all([edits, wait]);
    }
    // At once half the time: a batch's commit follows its log lines within milliseconds.
    if (r.next() < 0.5) await sleep(r.int(0, 20));
  }
  if (phase === "stopping") {
    Deno.kill(w.pid, "SIGTERM");
    await Promise.race([w.ended, sleep(r.int(0, 60))]);
  }
  // Only a session that still ran when it was sent SIGKILL ends by it.
  const exit = await w.stop("SIGKILL");
  if (phase === "stopping" && exit.signal !== "SIGKILL") {
    assert.equal(exit.code, 0, `a session stopped by SIGTERM:\n${exit.stderr}`);
    return { phase, killed: true, stopped: true, vouched: true };
  }
  const lines = log.lines();
  const vouched = lines.some((l) => l.startsWith("Watch started")) &&
    !lines.some((l) => l.includes("were not pruned"));
  return { phase, killed: exit.signal === "SIGKILL", stopped: false, vouched };
}

Deno.test("random SIGKILL rounds of watch: a new session converges and no captured content is lost", async () => {
  const seed = suiteSeed(0x5eed_0002);
  const r = rng(seed);
  const replay = `seed ${seed} (RELIABILITY_SEED=${seed} replays it)`;
  using fx = makeFixture({});
  const tree = new KillTree(r, fx.source);
  tree.generate(FILES);
  for (let i = 0; i < 5; i++) tree.write(`tmp/t${i}.tmp`, r.bytes(r.int(1, 500)));
  const extra = new KillTree(r, join(fx.dir, "extra"));
  extra.generate(30);
  const captured = new Set<string>();
  const landed: Record<string, number> = {};
  let ahead = DAY / 2;
  for (let n = 0; n < ROUNDS; n++) {
    const phase: Phase = n === 0
      ? "start"
      : r.pick(["start", "burst", "burst", "reload", "rescan", "stopping"]);
    if (n > 0) {
      for (let i = r.int(0, 40); i > 0; i--) tree.editOnce();
      for (let i = r.int(0, 5); i > 0; i--) extra.editOnce();
    }
    config(fx, { excluded: r.next() < 0.5, rescan: phase === "rescan", extra: r.next() < 0.5 });
    const env = { BACKUP_TOOL_CLOCK_AHEAD: String(ahead) };
    const { killed, stopped, vouched } = await round(fx, tree, r, phase, env);
    // The clock moves on from a session whose full pass vouched for its time, never more
    // than the guard of keep_deleted_days allows (a session killed in its first pass
    // vouches for nothing: the next one's clock stays).
    if (vouched) ahead += DAY / 2;
    assert.ok(killed, `round ${n} (${phase}): the session ended before its kill, ${replay}`);
    const problems = crashStateProblems(fx.backup);
    assert.deepEqual(problems, [], `round ${n} (${phase}), after SIGKILL, ${replay}`);
    const state = readState(fx.backup);
    for (const c of state.copies) if (c.stored_at) captured.add(c.hash);
    // Where it landed: with batches journaled and not committed, or files staged.
    if (stopped) {
      // Stopped by its SIGTERM: its batch finished, nothing journaled nor staged is left.
      assert.equal(state.intents, 0, `round ${n}, stopped, ${replay}`);
      assert.deepEqual(tmpLeftovers(fx.backup), [], `round ${n}, stopped, ${replay}`);
    }
    const inBatch = stopped
      ? "ended by SIGTERM first"
      : state.intents > 0
      ? "journaled"
      : tmpLeftovers(fx.backup).length > 0
      ? "staged"
      : "between";
    landed[`${phase} ${inBatch}`] = (landed[`${phase} ${inBatch}`] ?? 0) + 1;
  }
  const pruned = fx.logLines().filter((l) => l.startsWith("RETENTION delete:"));
  const deleted = pruned.filter((l) => l.includes(" _deleted/")).length;
  console.log(
    `  ${replay}: ${ROUNDS} sessions killed: ${JSON.stringify(landed)}; ` +
      `${pruned.length - deleted} versions and ${deleted} deleted files' copies pruned`,
  );

  config(fx, { excluded: false, rescan: false, extra: true });
  const env = { BACKUP_TOOL_CLOCK_AHEAD: String(ahead) };
  {
    await using w = new WatchProcess(fx, ["--quiet"], env);
    // Not w.ready(): that counts 'Watch started' in every log, which log rotation removes.
    const started = await logReaches(
      new SessionLog(fx, w.pid),
      w,
      { line: /^Watch started/ },
      60_000,
    );
    assert.ok(started, `the new session did not start within 60 s, ${replay}\n${w.stderr}`);
    await poll(`the new session to converge, ${replay}`, () => {
      try {
        const check = checkBackup(fx.backup);
        return [...check.problems, ...sourceProblems(fx, check)].length === 0;
      } catch {
        return false; // the state is being written
      }
    }, 60_000);
    const exit = await w.stop("SIGTERM");
    assert.equal(exit.code, 0, `the new session's stop, ${replay}\n${exit.stderr}`);
  }
  const check = checkBackup(fx.backup);
  const problems = [...check.problems, ...sourceProblems(fx, check)];
  const written = new Set([...tree.written(), ...extra.written()]);
  for (const h of captured) {
    if (!written.has(h) || tree.mayBePruned(h, 2) || extra.mayBePruned(h, 2)) continue;
    if (!check.contents.has(h)) problems.push(`captured content ${h.slice(0, 12)} is lost`);
  }
  assert.deepEqual(problems, [], `after the new session, ${replay}`);

  const verify = await runTool(["verify", "--json", "--config", fx.config], { timeoutMs: 60_000 });
  assert.equal(verify.code, 0, `verify, ${replay}\n${verify.stdout}\n${verify.stderr}`);
  const restored = join(fx.dir, "restored");
  const restore = await runTool(["restore", "--to", restored, "--config", fx.config]);
  assert.equal(restore.code, 0, `restore, ${replay}\n${restore.stdout}\n${restore.stderr}`);
  for (const name of ["source", "extra"]) {
    const got = snapshot(join(restored, name));
    assert.deepEqual(got, snapshot(join(fx.dir, name)), `full restore of ${name}, ${replay}`);
  }
  // The lock is free, and the session left nothing to do.
  const again = await runTool(["run", "--json", "--config", fx.config], { env });
  assert.equal(again.code, 0, `the run after, ${replay}\n${again.stdout}\n${again.stderr}`);
  const c = JSON.parse(again.stdout).counts;
  assert.equal(c.backup + c.modified + c.duplicate + c.delete + c.failed, 0, replay);
});
