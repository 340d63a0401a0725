/**
 * Files that change while the run reads them. Background writers in the test process keep
 * appending to, replacing (by rename) or truncating and rewriting source files for the
 * whole duration of a run. Whatever the timing, each stored copy must be a state the file
 * really had (never a torn mix of two versions), its recorded digest must be the digest of
 * the stored bytes, a file that kept changing must be reported (exit 1, its name and the
 * reason on stderr), and once the writers stop the next run must converge to the source.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, writeTree } from "../helpers.ts";
import {
  assertConverged,
  checkBackup,
  lastLogLines,
  pausedRun,
  type Rng,
  rng,
  runTool,
  suiteSeed,
} from "./util.ts";

/** A background writer: `step` runs in a loop (yielding to the event loop) until stopped. */
function startWriter(step: () => Promise<void> | void): { stop(): Promise<number> } {
  let running = true;
  let steps = 0;
  const loop = (async () => {
    while (running) {
      await step();
      steps++;
      await new Promise((r) => setTimeout(r, 0));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return steps;
    },
  };
}

/** The stored copy of a tracked source path, as bytes (undefined when not tracked). */
function storedBytes(
  backup: string,
  rel: string,
  check = checkBackup(backup),
): Uint8Array | undefined {
  const f = check.state.files.find((f) => f.path === `source/${rel}`);
  if (!f) return undefined;
  const c = check.state.copies.find((c) => c.id === f.copy_id)!;
  return Deno.readFileSync(join(backup, ...c.stored_at!.split("/")));
}

function isPrefix(short: Uint8Array, long: Uint8Array): boolean {
  if (short.length > long.length) return false;
  for (let i = 0; i < short.length; i++) if (short[i] !== long[i]) return false;
  return true;
}

/** `s` = next[0, j) + prev[j, s.length) for a piece boundary j. */
function isMix(s: Uint8Array, next: Uint8Array, prev: Uint8Array): boolean {
  if (s.length > prev.length) return false;
  for (let j = 0; j <= Math.min(s.length, next.length); j += 16_384) {
    if (isPrefix(s.subarray(0, j), next) && isPrefix(s.subarray(j), prev.subarray(j))) return true;
  }
  return false;
}

/** Problems of a run that raced with writers: exit code, reported names, consistency. */
function checkRacedRun(
  r: { code: number; stderr: string },
  fx: { backup: string },
  racing: string[],
  context: string,
): { reported: string[] } {
  assert.ok(r.code === 0 || r.code === 1, `${context}: exit ${r.code}\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /Backup failed/, context);
  const reported = racing.filter((rel) => r.stderr.includes(`source/${rel}:`));
  if (r.code === 1) {
    assert.ok(reported.length > 0, `${context}: exit 1 but no racing file named:\n${r.stderr}`);
    // Changed or replaced again and again while read (retried, then given up).
    assert.match(r.stderr, /kept changing while being read|was replaced through/, context);
  }
  const problems = checkBackup(fx.backup).problems;
  assert.deepEqual(problems, [], `${context}: the backup disagrees with its state`);
  return { reported };
}

Deno.test("a file appended to during the run: stored consistently or reported, then picked up", async () => {
  const seed = suiteSeed(0xa99e);
  const r = rng(seed);
  using fx = makeFixture({ "grow.log": r.bytes(12 << 20), "other.txt": "other" });
  const first = await runTool(["run", "--config", fx.config]);
  assert.equal(first.code, 0, first.stderr);
  const path = join(fx.source, "grow.log");
  const file = Deno.openSync(path, { append: true });
  let raced: { code: number; stderr: string };
  try {
    const chunk = r.bytes(4096);
    const writer = startWriter(() => void file.writeSync(chunk));
    try {
      Deno.writeTextFileSync(join(fx.source, "other.txt"), "other, changed");
      raced = await runTool(["run", "--rehash", "--config", fx.config]);
    } finally {
      console.log(`  appends during the run: ${await writer.stop()}, exit ${raced!.code}`);
    }
  } finally {
    file.close();
  }
  const { reported } = checkRacedRun(raced, fx, ["grow.log"], `seed ${seed}`);
  // Appends only: whatever was stored is a prefix of what the file holds now.
  const stored = storedBytes(fx.backup, "grow.log")!;
  assert.ok(isPrefix(stored, Deno.readFileSync(path)), "the stored copy is not a state it had");
  if (reported.length > 0) {
    assert.equal(stored.length, 12 << 20, "reported, so the earlier copy is kept");
  }
  const after = await runTool(["run", "--config", fx.config]);
  assert.equal(after.code, 0, after.stderr);
  assertConverged(fx, [], "after the writer stopped");
});

/** Versions written by a replacing/rewriting writer, per path, for the "no torn copy" check. */
type Written = Map<string, Uint8Array[]>;

function version(r: Rng, rel: string, n: number): Uint8Array {
  const head = new TextEncoder().encode(`${rel} version ${n}\n`);
  const body = r.bytes(r.int(48_000, 80_000));
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

Deno.test("files replaced by rename during the run: each stored copy is one whole version", async () => {
  const seed = suiteSeed(0x4e4a);
  const r = rng(seed);
  const names = Array.from({ length: 150 }, (_, i) => `r/${String(i).padStart(3, "0")}.dat`);
  const written: Written = new Map();
  const tree: Record<string, Uint8Array> = {};
  for (const rel of names) {
    const v = version(r, rel, 0);
    tree[rel] = v;
    written.set(rel, [v]);
  }
  using fx = makeFixture(tree);
  const first = await runTool(["run", "--config", fx.config]);
  assert.equal(first.code, 0, first.stderr);
  const staging = join(fx.dir, "staging");
  Deno.mkdirSync(staging);
  let n = 0;
  const writer = startWriter(() => {
    const rel = r.pick(names);
    const v = version(r, rel, ++n);
    const tmp = join(staging, `${n}.tmp`);
    Deno.writeFileSync(tmp, v);
    Deno.renameSync(tmp, join(fx.source, ...rel.split("/")));
    written.get(rel)!.push(v);
  });
  let raced: { code: number; stderr: string };
  try {
    raced = await runTool(["run", "--config", fx.config]);
  } finally {
    console.log(`  replacements during the run: ${await writer.stop()}`);
  }
  const { reported } = checkRacedRun(raced, fx, names, `seed ${seed}`);
  console.log(`  exit ${raced.code}, ${reported.length} file(s) reported as changing`);
  const check = checkBackup(fx.backup);
  for (const rel of names) {
    const stored = storedBytes(fx.backup, rel, check)!;
    assert.ok(
      written.get(rel)!.some((v) => v.length === stored.length && isPrefix(v, stored)),
      `${rel}: the stored copy is not any version that was written (torn), seed ${seed}`,
    );
  }
  const after = await runTool(["run", "--config", fx.config]);
  assert.equal(after.code, 0, after.stderr);
  assertConverged(fx, [], `after the writer stopped, seed ${seed}`);
});

Deno.test("files truncated and rewritten during the run: each stored copy is a state they had", async () => {
  const seed = suiteSeed(0x7a0c);
  const r = rng(seed);
  const names = Array.from({ length: 60 }, (_, i) => `t/${i}.dat`);
  const written: Written = new Map();
  const tree: Record<string, Uint8Array> = {};
  for (const rel of names) {
    tree[rel] = version(r, rel, 0);
    written.set(rel, [tree[rel]]);
  }
  using fx = makeFixture(tree);
  const first = await runTool(["run", "--config", fx.config]);
  assert.equal(first.code, 0, first.stderr);
  let n = 0;
  // Per file, the length each version was cut to before the next was written over it.
  const cuts = new Map<string, number[]>(names.map((rel) => [rel, []]));
  const writer = startWriter(async () => {
    const rel = r.pick(names);
    const v = version(r, rel, ++n);
    written.get(rel)!.push(v);
    const cut = r.next() < 0.5 ? 0 : r.int(1, 40_000);
    cuts.get(rel)!.push(cut);
    using f = Deno.openSync(join(fx.source, ...rel.split("/")), { write: true });
    f.truncateSync(cut);
    f.seekSync(0, Deno.SeekMode.Start);
    // In pieces, yielding between them: a reader can meet a half-written file.
    for (let off = 0; off < v.length; off += 16_384) {
      f.writeSync(v.subarray(off, Math.min(v.length, off + 16_384)));
      await new Promise((res) => setTimeout(res, 0));
    }
  });
  let raced: { code: number; stderr: string };
  try {
    raced = await runTool(["run", "--config", fx.config]);
  } finally {
    console.log(`  rewrites during the run: ${await writer.stop()}`);
  }
  const { reported } = checkRacedRun(raced, fx, names, `seed ${seed}`);
  console.log(`  exit ${raced.code}, ${reported.length} file(s) reported as changing`);
  const check = checkBackup(fx.backup);
  for (const rel of names) {
    const stored = storedBytes(fx.backup, rel, check)!;
    // Truncated to k bytes, then rewritten from offset 0 in 16 KiB pieces: every state the
    // file passes through is the next version's first j bytes (j a piece boundary)
    // followed by what is left of the previous version after them.
    // A prefix of a version is one only at a piece boundary of its writing, or as long as
    // the cut made before the next version was written (a short read would be neither).
    const versions = written.get(rel)!;
    const cutsOf = cuts.get(rel)!;
    const ok = versions.some((v, i) =>
      (isPrefix(stored, v) &&
        (stored.length === v.length || stored.length % 16_384 === 0 ||
          stored.length === Math.min(cutsOf[i] ?? -1, v.length))) ||
      (i > 0 && isMix(stored, v, versions[i - 1]))
    );
    assert.ok(ok, `${rel}: the stored copy is no state the file had, seed ${seed}`);
  }
  const after = await runTool(["run", "--config", fx.config]);
  assert.equal(after.code, 0, after.stderr);
  assertConverged(fx, [], `after the writer stopped, seed ${seed}`);
});

Deno.test("a folder replaced by a file, and a file by a folder, while the run walks: no failure", async () => {
  using fx = makeFixture({ "a/x.txt": "x\n", "b/y.txt": "y\n", "c.txt": "c\n" });
  assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
  // The next run has something to do in a/, and c.txt to read (its size changed).
  writeTree(fx.source, { "a/x2.txt": "x2\n", "c.txt": "c, longer\n" });
  // Paused entering a/, after the source folder was listed (b a folder, c.txt a file).
  await using paused = await pausedRun(["run", "--config", fx.config], "folder:2", fx.dir);
  const { child, resume } = paused;
  Deno.removeSync(join(fx.source, "b"), { recursive: true });
  Deno.writeTextFileSync(join(fx.source, "b"), "now a file\n");
  Deno.removeSync(join(fx.source, "c.txt"));
  writeTree(fx.source, { "c.txt/inside.txt": "now a folder\n" });
  resume();
  const out = await child.output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stdout + stderr);
  assert.doesNotMatch(stderr, /ERROR/);
  const log = lastLogLines(fx.logs);
  assert.ok(log.some((l) => /^SKIP VANISHED: source\/b \(/.test(l)), log.join("\n"));
  // c.txt, looked at again before it is read, is gone as a file: archived as deleted.
  assert.ok(log.includes("ARCHIVE DELETE: backup/c.txt → backup/_deleted/c.txt"), log.join("\n"));
  assert.ok(!log.some((l) => l.startsWith("DELETED: source/b/")), "nothing below b archived");
  // The next run sees what is there now.
  assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
  assertConverged(fx, [], "after the swaps");
});

Deno.test({
  name:
    "a file rewritten in place while it is read, in the second of its last change, mtime put back: never torn",
  ignore: Deno.build.os !== "linux", // the change time to the nanosecond comes from statx
  fn: async () => {
    const MiB = 1 << 20;
    // The walk knows the change time to the second; the rewrite must fall in that second,
    // which a slow start of the run may miss: then it is tried again, with a new file.
    for (let attempt = 1;; attempt++) {
      while (Date.now() % 1000 > 100) await new Promise((r) => setTimeout(r, 10));
      using fx = makeFixture({ "big.bin": new Uint8Array(4 * MiB).fill(0x41) });
      const file = join(fx.source, "big.bin");
      const { mtime, ctime } = Deno.statSync(file);
      const args = ["run", "--config", fx.config];
      await using paused = await pausedRun(args, "reading:1", fx.dir);
      const { child, resume } = paused;
      // The first MiB is read; the head and the tail are rewritten, the mtime put back.
      using f = await Deno.open(file, { write: true });
      await f.write(new Uint8Array(MiB).fill(0x42));
      await f.seek(-MiB, Deno.SeekMode.End);
      await f.write(new Uint8Array(MiB).fill(0x42));
      Deno.utimeSync(file, mtime!, mtime!);
      const sameSecond = Deno.statSync(file).ctime!.getTime() === ctime!.getTime();
      resume();
      const out = await child.output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      if (!sameSecond && attempt < 8) continue;
      if (!sameSecond) {
        return console.log("SKIP: the rewrite never fell in the second of the file's creation");
      }
      const stored = Deno.readFileSync(join(fx.backup, "big.bin"));
      const parts = (b: Uint8Array) => [b.length, b[0], b[2 * MiB], b.at(-1)];
      assert.deepEqual(parts(stored), [4 * MiB, 0x42, 0x41, 0x42], "the file as it is now");
      return;
    }
  },
});

Deno.test({
  name: "a file rewritten in place while it is read, its mtime put back: stored whole, never torn",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const MiB = 1 << 20;
    const old = new Uint8Array(4 * MiB).fill(0x41); // "A" throughout
    using fx = makeFixture({ "big.bin": old });
    const file = join(fx.source, "big.bin");
    const mtime = Deno.statSync(file).mtime!;
    // A rewrite in a later second than the file's last change: its change time then moves
    // (Deno reads it to the second). 50 ms into that second: the kernel stamps files with a
    // clock that may lag the one Date.now reads by a tick (once seen under load: a torn copy
    // stored, the rewrite stamped in the same second).
    const changed = Deno.statSync(file).ctime!.getTime();
    await using paused = await pausedRun(["run", "--config", fx.config], "reading:1", fx.dir);
    const { child, resume } = paused;
    while (Date.now() < Math.floor(changed / 1000) * 1000 + 1050) {
      await new Promise((r) => setTimeout(r, 20));
    }
    // The first MiB is read; the head and the tail are rewritten, the mtime put back.
    using f = await Deno.open(file, { write: true });
    await f.write(new Uint8Array(MiB).fill(0x42));
    await f.seek(-MiB, Deno.SeekMode.End);
    await f.write(new Uint8Array(MiB).fill(0x42));
    Deno.utimeSync(file, mtime, mtime);
    resume();
    const out = await child.output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    // Compared by its three parts (assert's diff of two 4 MiB arrays takes gigabytes).
    const stored = Deno.readFileSync(join(fx.backup, "big.bin"));
    const parts = (b: Uint8Array) => [b.length, b[0], b[2 * MiB], b.at(-1)];
    assert.deepEqual(parts(stored), [4 * MiB, 0x42, 0x41, 0x42], "the file as it is now");
  },
});
