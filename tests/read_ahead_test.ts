/**
 * Held entries read ahead on the walk worker (read_ahead.ts). After a split walk, the
 * worker reads, hashes and stages the new and changed entries the first walk held (and
 * those each segment of the second walk holds), while the main thread plans them in
 * order. A run must decide exactly as when the main thread
 * reads them itself (`readAhead: false`): the same tree, versions, log lines in the same
 * order, state rows, and dry-run plan, for every kind of held entry: a changed file, one
 * rewritten with its size and mtime put back (only hashed ahead, then copied here), a
 * touched or a chmod'ed one, a file saved again whole (a new inode), new files and
 * duplicates, a changed symlink, a file over one request's bytes, and more entries than
 * are read ahead at once. Real folders, through the engine's entry points; the
 * sanitizers check that the worker is always shut down.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { loadConfig } from "../src/config/config.ts";
import { backupOnce } from "../src/engine/backup.ts";
import type { PassOptions } from "../src/engine/pass_types.ts";
import { type Fixture, makeFixture, plannedActions, readTree, type Tree } from "./helpers.ts";
import { asNobody, NOBODY, prepareDenoDir, sh } from "./reliability/util.ts";

/** More than the worker is asked to read ahead at once (512 entries, 64 a request). */
const MANY = 700;
const MiB = 1 << 20;

function baseTree(): Tree {
  const tree: Tree = {
    "a/changed.txt": "before",
    "a/same-size.txt": "AAAA",
    "a/touched.txt": "touched, same bytes",
    "a/chmod.txt": "mode changes",
    "a/saved-again.txt": "saved whole",
    "b/original.txt": "shared bytes",
    "big.bin": new Uint8Array(17 * MiB).fill(1),
  };
  for (let i = 0; i < MANY; i++) tree[`many/${String(i).padStart(4, "0")}.txt`] = `file ${i}`;
  return tree;
}

/** A tree backed up once, then changed in every way a held entry can be. */
async function changedFixture(): Promise<Fixture> {
  const fx = makeFixture(baseTree());
  // Made an hour ago: no fingerprint the first run takes is too recent to trust, however
  // long it takes, so every variant decides the unchanged files alike (a skip on the spot).
  const hourAgo = new Date(Date.now() - 3_600_000);
  for (const rel of Object.keys(baseTree())) Deno.utimeSync(join(fx.source, rel), hourAgo, hourAgo);
  Deno.symlinkSync("a/changed.txt", join(fx.source, "link"));
  const first = await backupOnce(loadConfig(fx.config));
  assert.equal(first.exitCode, 0, JSON.stringify(first.errors));
  const at = (p: string) => join(fx.source, p);
  Deno.writeTextFileSync(at("a/changed.txt"), "after, longer");
  const mtime = Deno.statSync(at("a/same-size.txt")).mtime!;
  Deno.writeTextFileSync(at("a/same-size.txt"), "BBBB");
  Deno.utimeSync(at("a/same-size.txt"), mtime, mtime);
  const later = new Date(Date.now() + 60_000);
  Deno.utimeSync(at("a/touched.txt"), later, later);
  Deno.chmodSync(at("a/chmod.txt"), 0o600);
  Deno.copyFileSync(at("a/saved-again.txt"), at("a/saved.tmp"));
  Deno.renameSync(at("a/saved.tmp"), at("a/saved-again.txt"));
  Deno.mkdirSync(at("c"));
  Deno.writeTextFileSync(at("c/new.txt"), "brand new");
  Deno.writeTextFileSync(at("c/dup.txt"), "shared bytes");
  Deno.removeSync(at("link"));
  Deno.symlinkSync("b/original.txt", at("link"));
  const big = new Uint8Array(17 * MiB).fill(1);
  big[big.length - 1] = 2;
  Deno.writeFileSync(at("big.bin"), big);
  for (let i = 0; i < MANY; i += 2) {
    Deno.writeTextFileSync(at(`many/${String(i).padStart(4, "0")}.txt`), `file ${i}, changed`);
  }
  return fx;
}

/** The state's rows, without the times of this run (and the trust they decide). */
function stateRows(backup: string) {
  const db = new DatabaseSync(join(backup, ".backup-tool", "state.db"), { readOnly: true });
  try {
    return {
      files: db.prepare(
        "SELECT path, kind, hash, size, mode, status FROM files ORDER BY path",
      ).all(),
      copies: db.prepare(
        "SELECT path, seq, hash, mode, location, stored_at FROM copies ORDER BY path, seq",
      ).all(),
      intents: db.prepare("SELECT count(*) AS n FROM intents").get(),
    };
  } finally {
    db.close();
  }
}

const notTimed = (line: string) => !/^Run (started|complete)/.test(line);

/** What differs between two fixtures of the same tree: where, when, which inode. */
const OWN = new Set(["abs", "ctimeMs", "mtimeMs", "ino", "dev", "tmp"]);
const withoutOwn = (value: unknown) =>
  JSON.parse(JSON.stringify(value, (key, v) => OWN.has(key) ? undefined : v));

/** Reading on this thread, then ahead on the worker (the walk split before the first path). */
const VARIANTS: PassOptions[] = [{ walkerSplit: 0, readAhead: false }, { walkerSplit: 0 }];

Deno.test({
  name: "read ahead: held entries read on the walk worker are decided as when read here",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const results = [];
    const segmented = VARIANTS.map((opts) => ({ ...opts, pendingLimit: 100 }));
    for (const opts of [...VARIANTS, ...segmented]) {
      using fx = await changedFixture();
      const r = await backupOnce(loadConfig(fx.config), opts);
      assert.equal(r.exitCode, 0, JSON.stringify(r.errors));
      results.push({
        counts: r.counts,
        tree: readTree(fx.backup),
        log: fx.lastLog().filter(notTimed),
        state: stateRows(fx.backup),
        tmp: [...Deno.readDirSync(join(fx.backup, ".backup-tool", "tmp"))].length,
      });
    }
    const [here, ahead, ...limited] = results;
    assert.equal(here.counts.modified, 4 + MANY / 2, JSON.stringify(here.counts));
    assert.equal(here.counts.backup, 1);
    assert.equal(here.counts.duplicate, 1);
    assert.equal(here.tree["a/same-size.txt"], "BBBB");
    assert.equal(here.tree["versions/a/same-size.txt/v1.bak"], "AAAA");
    assert.equal(here.tree["versions/a/touched.txt/v1.bak"], undefined);
    assert.equal(here.tmp, 0);
    assert.deepEqual(ahead.counts, here.counts);
    assert.deepEqual(ahead.tree, here.tree);
    assert.deepEqual(ahead.log, here.log);
    assert.deepEqual(ahead.state, here.state);
    assert.equal(ahead.tmp, 0);
    // Held 100 at a time, in segments: the same decisions, the log in segment order.
    const [limitedHere, limitedAhead] = limited;
    assert.deepEqual(limitedAhead.log, limitedHere.log);
    for (const run of limited) {
      assert.deepEqual(run.counts, here.counts);
      assert.deepEqual(run.tree, here.tree);
      assert.deepEqual([...run.log].sort(), [...here.log].sort());
      assert.deepEqual(run.state, here.state);
      assert.equal(run.tmp, 0);
    }
  },
});

Deno.test({
  name: "read ahead: a dry run plans the same, and a hash algorithm change reads alike",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const plans = [];
    const runs = [];
    for (const opts of VARIANTS) {
      using fx = await changedFixture();
      plans.push(await plannedActions(fx.config, opts));
      const config = JSON.parse(Deno.readTextFileSync(fx.config));
      Deno.writeTextFileSync(fx.config, JSON.stringify({ ...config, hash_algorithm: "sha512" }));
      const r = await backupOnce(loadConfig(fx.config), opts);
      assert.equal(r.exitCode, 0, JSON.stringify(r.errors));
      runs.push({ counts: r.counts, tree: readTree(fx.backup), state: stateRows(fx.backup) });
    }
    assert.ok(plans[0].length > MANY / 2, `${plans[0].length} actions planned`);
    assert.deepEqual(withoutOwn(plans[1]), withoutOwn(plans[0]));
    assert.deepEqual(runs[1], runs[0]);
    assert.ok(
      (runs[0].state.files as { hash: string }[]).every((f) => f.hash.length === 128),
      "every file's digest is a SHA-512 now",
    );
  },
});

/**
 * Run as `nobody` (root reads any folder): a backup of 3 folders of 20 changed files, held
 * 5 at a time, whose second folder becomes unreadable while a segment is in it.
 */
const UNREADABLE_SCRIPT = (src: string) => `
import { loadConfig } from "${new URL("../src/config/config.ts", import.meta.url)}";
import { backupOnce } from "${new URL("../src/engine/backup.ts", import.meta.url)}";
let done = false;
const r = await backupOnce(loadConfig(Deno.args[0]), {
  walkerSplit: 0,
  pendingLimit: 5,
  onProgress: (p) => {
    if (done || p.current !== "source/d1/f07.txt") return;
    done = true;
    Deno.chmodSync(${JSON.stringify(join(src, "d1"))}, 0);
  },
});
Deno.chmodSync(${JSON.stringify(join(src, "d1"))}, 0o755);
console.log(JSON.stringify({ done, counts: r.counts, errors: r.errors }));
`;

Deno.test({
  name: "read ahead: a folder unreadable from one segment to the next is reported (as nobody)",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const tree: Tree = {};
    for (const d of ["d0", "d1", "d2"]) {
      for (let i = 0; i < 20; i++) tree[`${d}/f${String(i).padStart(2, "0")}.txt`] = `${d} ${i}`;
    }
    using fx = makeFixture(tree);
    const denoDir = join(fx.dir, "deno-dir");
    const prefix = asNobody(denoDir);
    if (typeof prefix === "string") return console.log(`SKIP unreadable segment test: ${prefix}`);
    await prepareDenoDir(denoDir);
    const script = join(fx.dir, "segment.ts");
    Deno.writeTextFileSync(script, UNREADABLE_SCRIPT(fx.source));
    assert.equal((await backupOnce(loadConfig(fx.config))).exitCode, 0);
    for (const path of Object.keys(tree)) {
      Deno.writeTextFileSync(join(fx.source, path), `${tree[path]}, changed`);
    }
    await sh(`chown -R ${NOBODY}:${NOBODY} '${fx.dir}' && chmod 755 '${fx.dir}'`);
    const [cmd, ...args] = [...prefix, Deno.execPath(), "run", "-A", script, fx.config];
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const r = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
    assert.ok(r.done);
    // The files of d1 after the segment that listed it: not backed up, and said so.
    const failed = (r.errors as { path: string }[]).map((e) => e.path);
    assert.deepEqual(failed, ["source/d1"], JSON.stringify(r));
    assert.equal(r.counts.modified, 50, JSON.stringify(r.counts));
  },
});
