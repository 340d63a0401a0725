/**
 * Random SIGKILL rounds. A tree of ~2000 files (empty to a few MB, ~45 MB in all, with
 * duplicates and symlinks) is edited between rounds (modified, appended, deleted, added,
 * renamed, large files added); each round starts `run` and kills it with SIGKILL at a
 * seeded random moment after it took the lock. After every kill the backup root is checked
 * as the crash left it: every file at a final name is either a committed copy with its
 * recorded digest or the completed step of a journaled (pending) action, never a partial
 * file. Then one clean run must converge: exit 0, the latest copies equal the source byte
 * for byte, `verify` is clean, a full `restore` equals the source, every content captured
 * by any completed run is still stored, and nothing is left in the temp folder.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { makeFixture } from "../helpers.ts";
import {
  assertConverged,
  countsOf,
  crashStateProblems,
  digestPath,
  killAndWait,
  type Rng,
  rng,
  runTool,
  sha256,
  snapshot,
  spawnTool,
  suiteSeed,
} from "./util.ts";

const FILES = 2000;
const ROUNDS = 12;

interface Model {
  /** rel path → digest of what the source holds now. */
  files: Map<string, string>;
  symlinks: Set<string>;
  dirs: string[];
  counter: number;
}

function randomSize(r: Rng): number {
  const x = r.next();
  if (x < 0.03) return 0;
  if (x < 0.70) return r.int(1, 2048);
  if (x < 0.95) return r.int(2048, 32 * 1024);
  if (x < 0.995) return r.int(32 * 1024, 256 * 1024);
  return r.int(1 << 20, 3 << 20);
}

function writeFile(src: string, m: Model, rel: string, data: Uint8Array): void {
  const abs = join(src, ...rel.split("/"));
  Deno.mkdirSync(dirname(abs), { recursive: true });
  Deno.writeFileSync(abs, data);
  m.files.set(rel, sha256(data));
}

function newName(r: Rng, m: Model): string {
  return `${r.pick(m.dirs)}/f${m.counter++}.bin`;
}

/** Some existing regular file's bytes (for duplicates), or fresh random bytes. */
function content(r: Rng, src: string, m: Model, size: number): Uint8Array {
  if (r.next() < 0.05 && m.files.size > 0) {
    const rel = r.pick([...m.files.keys()]);
    if (!m.symlinks.has(rel)) return Deno.readFileSync(join(src, ...rel.split("/")));
  }
  return r.bytes(size);
}

function generate(r: Rng, src: string): Model {
  const m: Model = { files: new Map(), symlinks: new Set(), dirs: [], counter: 0 };
  for (let i = 0; i < 60; i++) {
    const depth = r.int(1, 3);
    m.dirs.push(Array.from({ length: depth }, (_, k) => `d${k}-${r.int(0, 9)}`).join("/"));
  }
  for (let i = 0; i < FILES; i++) {
    const rel = newName(r, m);
    if (r.next() < 0.01) {
      const target = r.pick(["../x", "/etc/hostname", "f0.bin", "nowhere"]);
      const abs = join(src, ...rel.split("/"));
      Deno.mkdirSync(dirname(abs), { recursive: true });
      Deno.symlinkSync(target, abs);
      m.files.set(rel, sha256(target));
      m.symlinks.add(rel);
    } else {
      writeFile(src, m, rel, content(r, src, m, randomSize(r)));
    }
  }
  return m;
}

function edit(r: Rng, src: string, m: Model): void {
  const files = [...m.files.keys()].filter((p) => !m.symlinks.has(p));
  for (let i = 0; i < 30; i++) {
    const rel = r.pick(files);
    const abs = join(src, ...rel.split("/"));
    if (r.next() < 0.5) {
      Deno.writeFileSync(abs, r.bytes(r.int(1, 4096)), { append: true });
      m.files.set(rel, digestPath(abs));
    } else {
      writeFile(src, m, rel, content(r, src, m, randomSize(r)));
    }
  }
  for (let i = 0; i < 15; i++) {
    const rel = r.pick([...m.files.keys()]);
    Deno.removeSync(join(src, ...rel.split("/")));
    m.files.delete(rel);
    m.symlinks.delete(rel);
  }
  for (let i = 0; i < 5; i++) {
    const rel = r.pick([...m.files.keys()].filter((p) => !m.symlinks.has(p)));
    const to = newName(r, m);
    Deno.mkdirSync(dirname(join(src, ...to.split("/"))), { recursive: true });
    Deno.renameSync(join(src, ...rel.split("/")), join(src, ...to.split("/")));
    m.files.set(to, m.files.get(rel)!);
    m.files.delete(rel);
  }
  for (let i = 0; i < 20; i++) writeFile(src, m, newName(r, m), content(r, src, m, randomSize(r)));
  for (let i = 0; i < 2; i++) writeFile(src, m, newName(r, m), r.bytes(r.int(1 << 20, 2 << 20)));
}

/** Waits for the child to exit, or `ms`; true when it exited. Leaves no timer behind. */
async function exitsWithin(child: Deno.ChildProcess, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((r) => timer = setTimeout(() => r(false), ms));
  try {
    return await Promise.race([child.status.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until the run holds the backup root's lock (its pid in the lock file), or exits. */
async function lockTaken(child: Deno.ChildProcess, lock: string): Promise<boolean> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      if (JSON.parse(Deno.readTextFileSync(lock)).pid === child.pid) return true;
    } catch { /* not there yet, or being written */ }
    if (await exitsWithin(child, 5)) return false;
  }
  throw new Error("the run neither took the lock nor exited within 30 s");
}

Deno.test("random SIGKILL rounds: the next clean run converges and no captured content is lost", async () => {
  const seed = suiteSeed(0x5eed_0001);
  const r = rng(seed);
  const replay = `seed ${seed} (RELIABILITY_SEED=${seed} replays it)`;
  using fx = makeFixture({}, { retention: { max_versions_per_file: 1000 } });
  const m = generate(r, fx.source);
  const lock = join(fx.backup, ".backup-tool", "lock");
  const captured = new Set<string>();
  let killed = 0;
  let completed = 0;
  // How long a run keeps working after it took the lock; kills land in [0, 1.1 × that].
  let busyMs = 2500; // the first run copies everything
  for (let round = 0; round < ROUNDS; round++) {
    if (round > 0) edit(r, fx.source, m);
    const child = spawnTool(["run", "--quiet", "--config", fx.config], { output: "null" });
    let exited: boolean;
    let locked = 0;
    try {
      exited = true;
      if (await lockTaken(child, lock)) {
        locked = performance.now();
        exited = await exitsWithin(child, r.int(0, Math.round(busyMs * 1.1)));
      }
    } finally {
      await killAndWait(child);
    }
    const status = await child.status;
    if (exited || status.success) {
      assert.equal(status.code, 0, `round ${round}: the run failed, ${replay}`);
      completed++;
      for (const h of m.files.values()) captured.add(h);
      if (locked > 0) busyMs = Math.max(100, performance.now() - locked);
    } else {
      assert.equal(status.signal, "SIGKILL", `round ${round}: ${JSON.stringify(status)}`);
      killed++;
      const problems = crashStateProblems(fx.backup);
      assert.deepEqual(problems, [], `round ${round}, after SIGKILL, ${replay}`);
    }
  }
  console.log(`  ${replay}: ${killed} runs killed, ${completed} completed`);
  assert.ok(killed >= ROUNDS / 3, `only ${killed} of ${ROUNDS} runs were killed, ${replay}`);

  const final = await runTool(["run", "--json", "--config", fx.config], { timeoutMs: 60_000 });
  assert.equal(final.code, 0, `final run, ${replay}\n${final.stdout}\n${final.stderr}`);
  assert.equal(countsOf(final).failed, 0);
  for (const h of m.files.values()) captured.add(h);
  assertConverged(fx, captured, `after the final run, ${replay}`);

  const verify = await runTool(["verify", "--json", "--config", fx.config], { timeoutMs: 60_000 });
  assert.equal(verify.code, 0, `verify, ${replay}\n${verify.stdout}\n${verify.stderr}`);
  assert.equal(JSON.parse(verify.stdout).ok, true);

  const restored = join(fx.dir, "restored");
  const restore = await runTool(["restore", "--to", restored, "--config", fx.config], {
    timeoutMs: 60_000,
  });
  assert.equal(restore.code, 0, `restore, ${replay}\n${restore.stdout}\n${restore.stderr}`);
  assert.deepEqual(snapshot(restored), snapshot(fx.source), `full restore, ${replay}`);

  const again = await runTool(["run", "--json", "--config", fx.config], { timeoutMs: 60_000 });
  const c = countsOf(again);
  assert.equal(c.backup + c.modified + c.duplicate + c.delete + c.prune + c.failed, 0, replay);
});
