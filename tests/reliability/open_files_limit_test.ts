/**
 * A low open files limit (`ulimit -n 64`, a container's default on some systems): the
 * staged copies are flushed a few at a time, never more at once than the limit allows.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, readTree } from "../helpers.ts";
import { pausedRun, prepareDenoDir, runTool, spawnTool } from "./util.ts";

/**
 * A DENO_DIR of these tests' own (the npm packages copied in), removed when they end: Deno,
 * short of descriptors, takes its cache databases for damaged and deletes them ("Could not
 * initialize cache database … deleting and retrying"), which in the shared one failed
 * every other Deno process opening them at that moment (CI saw Deno's warning on another
 * test's output). A compiled binary (BACKUP_TOOL_BIN) needs none.
 */
const denoDir = Deno.makeTempDirSync({ prefix: "bt-deno-" });
globalThis.addEventListener("unload", () => Deno.removeSync(denoDir, { recursive: true }));
if (!Deno.env.get("BACKUP_TOOL_BIN")) await prepareDenoDir(denoDir);

/** A command prefix that runs the tool with an open files limit of `limit` (`ulimit -n`). */
function underLimit(limit: number): string[] {
  // Without NODE_EXTRA_CA_CERTS (set on some machines, CI's among them): Deno loads that
  // file on a thread of its own, which on a loaded machine can meet the limit the tool has
  // reached and print Deno's own "Ignoring extra certs … Too many open files" warning.
  const shell = ["bash", "-c", `ulimit -n ${limit} && exec "$0" "$@"`];
  return ["env", "-u", "NODE_EXTRA_CA_CERTS", `DENO_DIR=${denoDir}`, ...shell];
}

/** The remedy said for a failure for want of descriptors under `ulimit -n limit`. */
function remedyUnder(limit: number): string {
  return `the process ran out of open files (the limit, 'ulimit -n', is ${limit}): ` +
    "raise it (to 1024 or more) and run again";
}

/**
 * Whether `text` says `remedy`, or the one said where even /proc/self/limits could not be
 * opened at the moment of the error (out of descriptors still): the limit unnamed, never a
 * wrong one (CI at 5dae69c saw 256 named under ulimit -n 20).
 */
function saysRemedy(text: string, remedy: string): boolean {
  return text.includes(remedy) ||
    text.includes("the process ran out of open files: raise the limit ('ulimit -n') to 1024");
}

/** The tool run with an open files limit of `limit`. */
function runUnderLimit(limit: number, args: string[]) {
  return runTool(args, { prefix: underLimit(limit) });
}

Deno.test({
  name: "with ulimit -n 64, a batch of new files is flushed and backed up, run after run",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const tree: Record<string, string> = {};
    // Fewer than syncfs is used for: each staged copy gets its own fdatasync.
    for (let i = 0; i < 60; i++) tree[`f${i}.txt`] = `file ${i}\n`;
    using fx = makeFixture(tree);
    for (const round of [1, 2]) {
      const r = await runUnderLimit(64, ["run", "--config", fx.config]);
      assert.equal(r.code, 0, `round ${round}: ${r.stdout}\n${r.stderr}`);
    }
    assert.deepEqual(readTree(fx.backup), readTree(fx.source));
  },
});

Deno.test({
  name: "with ulimit -n 64, a restore through many folders keeps few of them open",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const tree: Record<string, string> = {};
    // Batches of under 64 files (fdatasyncs each) and of more (syncfs), across 120 folders.
    for (let d = 0; d < 120; d++) {
      for (let f = 0; f < 6; f++) tree[`g${d % 7}/d${d}/f${f}.txt`] = `file ${d} ${f}\n`;
    }
    using fx = makeFixture(tree);
    assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
    const out = `${fx.dir}/out`;
    const r = await runUnderLimit(64, ["restore", "--to", out, "--config", fx.config]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.deepEqual(readTree(out), readTree(fx.source));
  },
});

/** A tree `depth` folders deep, a file at each of its last levels, and a file beside it. */
function deepTree(depth: number): Record<string, string> {
  const tree: Record<string, string> = { "top.txt": "top\n" };
  let path = "";
  for (let level = 0; level < depth; level++) {
    path += `d${level}/`;
    if (level >= depth - 3) tree[`${path}f.txt`] = `level ${level}\n`;
  }
  return tree;
}

Deno.test({
  name: "with ulimit -n 64, a tree 60 folders deep is backed up whole, run after run",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    // The walk held one descriptor per level: the folder 34 levels deep could not be listed,
    // and what lay below it was left out of every run (limits hunt).
    using fx = makeFixture(deepTree(60));
    for (const round of [1, 2]) {
      if (round === 2) Deno.writeTextFileSync(`${fx.source}/top.txt`, "changed\n");
      const r = await runUnderLimit(64, ["run", "--config", fx.config]);
      assert.equal(r.code, 0, `round ${round}: ${r.stdout}\n${r.stderr}`);
      assert.deepEqual(readTree(fx.backup, [".backup-tool", "versions"]), readTree(fx.source));
    }
  },
});

Deno.test({
  name: "with ulimit -n 64, a restore of a tree 60 folders deep restores it, and what follows",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    // Reaching the deepest folder held every folder above it open at once, and the walk that
    // failed kept them: every file restored after it failed too (limits hunt).
    const tree = deepTree(60);
    for (let f = 0; f < 20; f++) tree[`wide/f${f}.txt`] = `file ${f}\n`;
    using fx = makeFixture(tree);
    assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
    const out = `${fx.dir}/out`;
    const r = await runUnderLimit(64, ["restore", "--to", out, "--config", fx.config]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.deepEqual(readTree(out), readTree(fx.source));
  },
});

Deno.test({
  name: "out of open files, the error names the limit and the remedy, not the path's permissions",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const tree: Record<string, string> = {};
    for (let i = 0; i < 30; i++) tree[`d${i}/f.txt`] = `file ${i}\n`;
    using fx = makeFixture(tree);
    // Where a run fails for want of descriptors depends on how many the process starts with
    // (and below some 24, Deno itself cannot start): every limit in a range is tried, and
    // wherever the tool fails, it says the limit and the remedy, and no other: SQLite's
    // "unable to open database file" (limits 26 to 29 here) included, which never says why.
    const said: number[] = [];
    for (let limit = 18; limit <= 40; limit++) {
      const r = await runUnderLimit(limit, ["run", "--config", fx.config]);
      if (/panicked|error: /.test(r.stderr)) continue; // Deno's own failure, before the tool's
      if (r.code === 0) continue;
      assert.ok(!/must be writable|permissions/.test(r.stderr), `ulimit -n ${limit}: ${r.stderr}`);
      const remedy = remedyUnder(limit);
      assert.ok(saysRemedy(r.stderr, remedy), `ulimit -n ${limit}: ${r.stderr}`);
      said.push(limit);
    }
    assert.ok(said.length >= 2, `the remedy was said under too few limits: ${said}`);
    const normal = await runTool(["run", "--config", fx.config]);
    assert.equal(normal.code, 0, normal.stderr);
    assert.deepEqual(readTree(fx.backup), readTree(fx.source));
  },
});

Deno.test({
  name: "with ulimit -n 64, a folder deeper than the walk holds open, swapped for a symlink " +
    "mid-walk, leads nowhere",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    // Twelve levels: past the eight folders a walk holds open under this limit. The walk
    // lists `l11`, enters `l11/in` and `l11/in/most` (the 15th folder entered, where it is
    // paused while `l11` is swapped), and only then comes back to `l11` for `zz.txt`.
    const deep = Array.from({ length: 12 }, (_, i) => `l${i}`).join("/");
    using fx = makeFixture({
      [`${deep}/in/most/a.txt`]: "inside\n",
      [`${deep}/zz.txt`]: "the source's own\n",
    });
    const outside = join(fx.dir, "outside");
    Deno.mkdirSync(outside);
    Deno.writeTextFileSync(join(outside, "zz.txt"), "a secret outside the source\n");
    const args = ["run", "--config", fx.config];
    await using paused = await pausedRun(args, "folder:15", fx.dir, { prefix: underLimit(64) });
    const folder = join(fx.source, deep);
    Deno.renameSync(folder, `${folder}.away`);
    Deno.symlinkSync(outside, folder);
    paused.resume();
    const out = await paused.child.output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, stderr);
    assert.match(
      stderr,
      /zz\.txt: Cannot read '[^']*zz\.txt': '[^']*l11' was replaced while being walked/,
    );
    const backedUp = readTree(fx.backup);
    assert.equal(backedUp[`${deep}/zz.txt`], undefined, "a file outside the source backed up");
  },
});

Deno.test({
  name: "with ulimit -n 64, a walk past the folders it may hold open holds no more than that",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    // Eight folders under this limit (an eighth of it), the one the walk is in included: a
    // walk that held one more each, with the walk worker's, failed runs that fit before.
    const dir = Deno.makeTempDirSync();
    try {
      const levels = Array.from({ length: 14 }, (_, i) => `l${i}`);
      Deno.mkdirSync(join(dir, ...levels), { recursive: true });
      const script = join(dir, "walk.ts");
      const folders = new URL("../../src/engine/fs/folders.ts", import.meta.url).href;
      Deno.writeTextFileSync(
        script,
        `import { ffiFolders } from ${JSON.stringify(folders)};
const fds = () => [...Deno.readDirSync("/proc/self/fd")].length;
const ffi = ffiFolders()!;
const before = fds();
const names = ${JSON.stringify(levels)};
let path = ${JSON.stringify(dir)};
const open = [ffi.open(path)];
let most = 0;
for (const name of names) {
  const seen = open[open.length - 1].stat(name, path + "/" + name);
  if (seen instanceof Error) throw seen;
  path += "/" + name;
  open.push(ffi.open(path, seen));
  most = Math.max(most, fds() - before);
}
for (let i = open.length - 1; i >= 0; i--) {
  const back = open[i].stat("missing", "missing");
  if (!(back instanceof Deno.errors.NotFound)) throw new Error("level " + i + ": " + back);
  most = Math.max(most, fds() - before);
  open[i].close();
}
console.log(JSON.stringify({ most, left: fds() - before }));
ffi.close();
`,
      );
      const out = await new Deno.Command("bash", {
        args: ["-c", `ulimit -n 64 && exec "$0" run -A "$1"`, Deno.execPath(), script],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, stderr);
      const { most, left } = JSON.parse(new TextDecoder().decode(out.stdout));
      assert.equal(left, 0, "every descriptor given back");
      assert.ok(most <= 8, `${most} descriptors held at once`);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "out of open files, watch names the limit and the remedy with the files it failed on",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const tree: Record<string, string> = {};
    for (let i = 0; i < 30; i++) tree[`d${i}/f.txt`] = `file ${i}\n`;
    using fx = makeFixture(tree, { watch: { debounce_ms: 100, rescan_interval: 0 } });
    assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
    // As for `run` above: where the first pass's listings fail depends on how many
    // descriptors the process starts with, so limits are tried up to the first that does.
    const said: number[] = [];
    for (let limit = 22; limit <= 44 && said.length === 0; limit++) {
      const starts = () => fx.logLines().filter((l) => l.startsWith("Watch started")).length;
      const before = starts();
      const child = spawnTool(["watch", "--config", fx.config, "--quiet"], {
        prefix: underLimit(limit),
      });
      const output = child.output();
      let ended = false;
      child.status.then(() => ended = true);
      // Stopped once its first pass is over (or it ended by itself), not at a set time: on a
      // loaded machine the pass under test can come later than 2.5 s after the start.
      for (const end = Date.now() + 30_000; !ended && starts() === before;) {
        if (Date.now() > end) break; // neither started nor ended in time: stopped all the same
        await new Promise((r) => setTimeout(r, 50));
      }
      try {
        child.kill("SIGINT");
      } catch { /* it has exited */ }
      const out = await output;
      const stderr = new TextDecoder().decode(out.stderr);
      if (!/^ERROR: .*Too many open files/m.test(stderr)) continue; // the pass's own errors
      const remedy = remedyUnder(limit);
      assert.ok(saysRemedy(stderr, remedy), `ulimit -n ${limit}: ${stderr}`);
      for (
        const line of stderr.split("\n").filter((l) => /failed: .*too many open files/i.test(l))
      ) {
        assert.ok(saysRemedy(line, remedy), `ulimit -n ${limit}: ${line}`); // retried in vain
      }
      said.push(limit);
    }
    assert.ok(said.length >= 1, "no limit had the pass fail for want of descriptors");
  },
});

Deno.test({
  name: "out of open files, restore and verify --repair name the limit and the remedy, not " +
    "a file to make readable",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const tree: Record<string, string> = {};
    for (let i = 0; i < 20; i++) {
      for (let j = 0; j < 3; j++) tree[`d${i}/e/f${j}.txt`] = `file ${i} ${j}\n`;
    }
    using fx = makeFixture(tree);
    assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
    const damage = () => {
      for (let i = 0; i < 5; i++) {
        Deno.writeTextFileSync(join(fx.backup, `d${i}/e/f0.txt`), "bad\n");
      }
    };
    const said = { restore: [] as number[], repair: [] as number[] };
    const outOfFiles = /too many open files/i;
    for (let limit = 20; limit <= 36; limit++) {
      const remedy = remedyUnder(limit);
      const to = join(fx.dir, `restored-${limit}`);
      const restore = await runUnderLimit(limit, ["restore", "--to", to, "--config", fx.config]);
      if (!/panicked|error: /.test(restore.stderr) && outOfFiles.test(restore.stderr)) {
        assert.ok(
          saysRemedy(restore.stderr, remedy),
          `restore, ulimit -n ${limit}: ${restore.stderr}`,
        );
        said.restore.push(limit);
      }
      damage();
      const repair = await runUnderLimit(limit, ["verify", "--repair", "--config", fx.config]);
      if (!/panicked|error: /.test(repair.stderr) && outOfFiles.test(repair.stderr)) {
        assert.ok(
          saysRemedy(repair.stderr, remedy),
          `repair, ulimit -n ${limit}: ${repair.stderr}`,
        );
        assert.ok(!/make it readable/.test(repair.stderr), `ulimit -n ${limit}: ${repair.stderr}`);
        said.repair.push(limit);
      }
    }
    assert.ok(said.restore.length >= 1 && said.repair.length >= 1, JSON.stringify(said));
  },
});
