/**
 * Random SIGKILL rounds of `verify --repair`. A backup of a few hundred files (up to 2 MB,
 * duplicates, old versions, deleted files' copies) has stored copies damaged each round:
 * bytes flipped, truncated, removed, among the copies whose content a source file still
 * holds (so that every one can be made again). A `verify --repair` is started and killed
 * with SIGKILL at a seeded random moment after it took the lock, as it re-hashes, makes
 * copies again or puts damaged ones aside.
 *
 * After every kill the backup root is checked as the crash left it: every file at a final
 * name holds its recorded content or, for a copy damaged and not yet repaired, the damaged
 * bytes: never a half-written copy; no copy is missing that was not removed on purpose;
 * every damaged content is still somewhere (at its copy's path or in
 * `.backup-tool/damaged/`). Then a second `verify --repair` must converge: exit 0, `verify`
 * clean, the backup root as the state records it with nothing left in the journal or
 * `.backup-tool/tmp`, its latest copies equal to the source, each damaged content kept in
 * `damaged/` (and once only, however many repairs were killed after putting it aside), and
 * a run after it has nothing to do.
 *
 * RELIABILITY_SEED=<n> replays a seed; REPAIR_KILL_ROUNDS=<n> sets the round count.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { makeFixture } from "../helpers.ts";
import {
  checkBackup,
  countsOf,
  digestPath,
  killAndWait,
  lastLogLines,
  latestProblems,
  readState,
  type Rng,
  rng,
  runTool,
  snapshot,
  spawnTool,
  storedFiles,
  suiteSeed,
  tmpLeftovers,
} from "./util.ts";

const ROUNDS = Number(Deno.env.get("REPAIR_KILL_ROUNDS") ?? 0) || 12;
const FILES = 300;

/** What was done to a stored copy: its recorded digest and what the damage left there. */
interface Damage {
  recorded: string;
  /** Digest of the damaged bytes; undefined where the copy was removed. */
  damaged?: string;
}

function randomSize(r: Rng): number {
  const x = r.next();
  if (x < 0.7) return r.int(1, 4096);
  if (x < 0.95) return r.int(4096, 64 * 1024);
  return r.int(1 << 20, 2 << 20);
}

function fill(r: Rng, source: string): string[] {
  const names: string[] = [];
  for (let i = 0; i < FILES; i++) {
    const rel = `d${r.int(0, 9)}/e${r.int(0, 3)}/f${i}.bin`;
    const abs = join(source, ...rel.split("/"));
    Deno.mkdirSync(dirname(abs), { recursive: true });
    const twin = names.length > 0 && r.next() < 0.1;
    Deno.writeFileSync(
      abs,
      twin ? Deno.readFileSync(join(source, ...r.pick(names).split("/"))) : r.bytes(randomSize(r)),
    );
    names.push(rel);
  }
  return names;
}

/**
 * Old versions and deleted files' copies whose content a source file still holds: a file
 * changed, then given its old bytes back under another name; a file deleted whose bytes
 * another name keeps.
 */
function edit(r: Rng, source: string, names: string[]): void {
  for (let i = 0; i < 40; i++) {
    const rel = r.pick(names);
    const abs = join(source, ...rel.split("/"));
    const old = Deno.readFileSync(abs);
    Deno.writeFileSync(abs, r.bytes(randomSize(r)));
    Deno.writeFileSync(`${abs}.old`, old);
  }
  for (let i = 0; i < 10; i++) {
    const rel = r.pick(names);
    const abs = join(source, ...rel.split("/"));
    try {
      Deno.renameSync(abs, `${abs}.moved`);
    } catch { /* picked twice */ }
  }
}

/**
 * Damages `share` of the copies a source file holds the content of, but those in `skip`
 * (damaged already, and maybe not repaired yet: damaging them again would destroy the first
 * damaged bytes, which the repair must keep).
 */
function damage(
  r: Rng,
  backup: string,
  source: string,
  share: number,
  skip: Map<string, Damage>,
  hand: Set<string>,
): Map<string, Damage> {
  const held = new Set([...snapshot(source).values()].map((s) => s.hash));
  const out = new Map<string, Damage>();
  for (const c of readState(backup).copies) {
    if (!c.stored_at || c.kind !== "file" || !held.has(c.hash) || skip.has(c.stored_at)) continue;
    if (r.next() >= share) continue;
    const abs = join(backup, ...c.stored_at.split("/"));
    // Not a copy recorded and not placed yet (made beside a folder put by hand, killed then).
    if (digestOrNone(abs) === undefined) continue;
    const bytes = Deno.readFileSync(abs);
    // 0: a bit flipped, 1: truncated, 2: removed, 3: a folder put by hand in its place.
    const how = r.next() < 0.05 ? 3 : bytes.length < 2 ? 2 : r.int(0, 2);
    // Written to another name and renamed over the copy: no other name of its bytes changes.
    const tmp = `${abs}.damage`;
    if (how === 0) {
      bytes[r.int(0, bytes.length - 1)] ^= 1 << r.int(0, 7);
      Deno.writeFileSync(tmp, bytes);
    } else if (how === 1) {
      // Never empty: the bytes of an empty file are a content the backup may record.
      Deno.writeFileSync(tmp, bytes.subarray(0, r.int(1, bytes.length - 1)));
    }
    if (how >= 2) Deno.removeSync(abs);
    else Deno.renameSync(tmp, abs);
    if (how === 3) {
      Deno.mkdirSync(abs);
      Deno.writeTextFileSync(join(abs, "note.txt"), "put here by hand\n");
      hand.add(c.stored_at);
    }
    out.set(c.stored_at, { recorded: c.hash, damaged: how >= 2 ? undefined : digestPath(abs) });
  }
  return out;
}

/** Digests of the files in `.backup-tool/damaged/`, each with how many hold it. */
function damagedKept(backup: string): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (dir: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch {
      return;
    }
    for (const e of entries) {
      const abs = join(dir, e.name);
      if (e.isDirectory) walk(abs);
      else out.set(digestPath(abs), (out.get(digestPath(abs)) ?? 0) + 1);
    }
  };
  walk(join(backup, ".backup-tool", "damaged"));
  return out;
}

/**
 * The crash-time invariants of a repair killed with `damaged` not all repaired. A copy
 * whose place holds a folder put there by hand (`hand`) is made at the next free name
 * beside it, recorded there first: missing there is a crash state the next repair mends.
 */
function crashProblems(
  backup: string,
  damaged: Map<string, Damage>,
  hand: Set<string>,
): string[] {
  const byHand = (rel: string) => [...hand].some((h) => rel.startsWith(`${h}/`));
  const madeBeside = (rel: string) => [...hand].some((h) => rel.startsWith(`${h}.~`));
  const problems: string[] = [];
  const aside = damagedKept(backup);
  const copies = readState(backup).copies;
  const recorded = new Set(copies.map((c) => c.stored_at));
  for (const rel of storedFiles(backup).keys()) {
    if (!recorded.has(rel) && !byHand(rel)) {
      problems.push(`${rel}: a file at a final name the state does not record`);
    }
  }
  for (const c of copies) {
    if (!c.stored_at) continue;
    const abs = join(backup, ...c.stored_at.split("/"));
    const got = digestOrNone(abs);
    const d = damaged.get(c.stored_at);
    if (got === c.hash) continue;
    if (d && got === d.damaged && got !== undefined) continue;
    if (d && got === undefined && d.damaged === undefined) continue;
    if (got === undefined && madeBeside(c.stored_at)) continue;
    problems.push(`${c.stored_at}: holds ${got ?? "nothing"}, neither recorded nor as damaged`);
  }
  for (const [at, d] of damaged) {
    if (d.damaged === undefined || aside.has(d.damaged)) continue;
    let here: string | undefined;
    try {
      here = digestPath(join(backup, ...at.split("/")));
    } catch { /* checked above */ }
    if (here !== d.damaged) problems.push(`${at}: its damaged bytes are nowhere any more`);
  }
  return problems;
}

/** A stored file's digest; undefined where nothing is, or a folder put there by hand. */
function digestOrNone(abs: string): string | undefined {
  try {
    return Deno.lstatSync(abs).isDirectory ? undefined : digestPath(abs);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/** Where a kill landed: before any copy was made again, among them, or after the last. */
function phaseOf(backup: string, damaged: Map<string, Damage>): string {
  let done = 0;
  for (const [at, d] of damaged) {
    try {
      if (digestPath(join(backup, ...at.split("/"))) === d.recorded) done++;
    } catch { /* missing still */ }
  }
  const aside = tmpLeftovers(backup).length > 0 ? ", a copy staged" : "";
  if (done === 0) return `before the first copy${aside}`;
  return done < damaged.size ? `among the copies${aside}` : `after the last copy${aside}`;
}

/** Waits until the child holds the backup root's lock, or exits; false when it exited. */
async function lockTaken(child: Deno.ChildProcess, lock: string): Promise<boolean> {
  let exited = false;
  child.status.then(() => exited = true);
  for (const deadline = Date.now() + 30_000; Date.now() < deadline && !exited;) {
    try {
      if (JSON.parse(Deno.readTextFileSync(lock)).pid === child.pid) return true;
    } catch { /* not there yet, or being written */ }
    await new Promise((r) => setTimeout(r, 3));
  }
  return false;
}

/** Waits `ms` or until the child exits; true when it exited. Leaves no timer behind. */
async function exitsWithin(child: Deno.ChildProcess, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((r) => timer = setTimeout(() => r(false), ms));
  try {
    return await Promise.race([child.status.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("random SIGKILL rounds of verify --repair: no copy is lost or half-written, the next repair converges", async () => {
  const seed = suiteSeed(0x5eed_0003);
  const r = rng(seed);
  const replay = `seed ${seed} (RELIABILITY_SEED=${seed} replays it)`;
  using fx = makeFixture({}, { retention: { max_versions_per_file: 1000 } });
  const names = fill(r, fx.source);
  assert.equal((await runTool(["run", "--quiet", "--config", fx.config])).code, 0);
  edit(r, fx.source, names);
  assert.equal((await runTool(["run", "--quiet", "--config", fx.config])).code, 0);
  const lock = join(fx.backup, ".backup-tool", "lock");
  const damaged = new Map<string, Damage>();
  /** Copies' places where a folder was put by hand. */
  const hand = new Set<string>();
  /** Every damaged content made, with how many copies were so damaged. */
  const made = new Map<string, number>();
  let killed = 0;
  let completed = 0;
  const landed: Record<string, number> = {};
  let busyMs = 2000;
  for (let n = 0; n < ROUNDS; n++) {
    if (damaged.size === 0 || r.next() < 0.3) {
      const share = r.next() * 0.3;
      for (const [at, d] of damage(r, fx.backup, fx.source, share, damaged, hand)) {
        damaged.set(at, d);
        if (d.damaged) made.set(d.damaged, (made.get(d.damaged) ?? 0) + 1);
      }
    }
    const child = spawnTool(["verify", "--repair", "--config", fx.config], { output: "null" });
    let exited = true;
    let locked = 0;
    try {
      if (await lockTaken(child, lock)) {
        locked = performance.now();
        exited = await exitsWithin(child, r.int(0, Math.round(busyMs * 1.1)));
      }
    } finally {
      await killAndWait(child);
    }
    const status = await child.status;
    if (status.signal !== "SIGKILL") {
      // Exit 1 where folders put by hand stand in the backup root (verify names them).
      assert.equal(status.code, hand.size > 0 ? 1 : 0, `round ${n}: the repair failed, ${replay}`);
      completed++;
      damaged.clear();
      if (exited && locked > 0) busyMs = Math.max(100, performance.now() - locked);
      continue;
    }
    killed++;
    const problems = crashProblems(fx.backup, damaged, hand);
    assert.deepEqual(problems, [], `round ${n}, after SIGKILL, ${replay}`);
    const phase = phaseOf(fx.backup, damaged);
    landed[phase] = (landed[phase] ?? 0) + 1;
  }
  console.log(
    `  ${replay}: ${killed} repairs killed (${JSON.stringify(landed)}), ${completed} completed`,
  );
  assert.ok(killed >= ROUNDS / 3, `only ${killed} of ${ROUNDS} repairs were killed, ${replay}`);

  const repair = await runTool(["verify", "--repair", "--config", fx.config]);
  const said = `the repair after, ${replay}\n${repair.stdout}\n${repair.stderr}`;
  assert.equal(repair.code, hand.size > 0 ? 1 : 0, said);
  assert.match(lastLogLines(fx.logs).at(-1)!, / repaired, 0 not repaired, /, said);
  // What was put by hand goes: then nothing but the backup is left in the backup root.
  for (const h of hand) Deno.removeSync(join(fx.backup, ...h.split("/")), { recursive: true });
  const verify = await runTool(["verify", "--json", "--config", fx.config]);
  assert.equal(verify.code, 0, `verify, ${replay}\n${verify.stdout}\n${verify.stderr}`);
  assert.equal(JSON.parse(verify.stdout).ok, true);
  const check = checkBackup(fx.backup);
  const problems = [...check.problems, ...latestProblems(fx.source, fx.backup, check)];
  const kept = damagedKept(fx.backup);
  for (const [h, count] of made) {
    const k = kept.get(h) ?? 0;
    if (k === 0) problems.push(`damaged content ${h.slice(0, 12)} is not kept in damaged/`);
    if (k > count) {
      problems.push(`damaged content ${h.slice(0, 12)} kept ${k} times, made ${count}`);
    }
  }
  assert.deepEqual(problems, [], `after the repair, ${replay}`);
  const again = await runTool(["run", "--json", "--config", fx.config]);
  const c = countsOf(again);
  assert.equal(again.code, 0, replay);
  assert.equal(c.backup + c.modified + c.duplicate + c.delete + c.prune + c.failed, 0, replay);
});
