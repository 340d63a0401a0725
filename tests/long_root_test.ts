/**
 * A backup_root too long for SQLite to open the state in it (see MAX_BACKUP_ROOT_BYTES in
 * config/config.ts) is a configuration error: exit code 2, one line naming the root, its
 * length and the limit, and nothing created. Exactly at the limit a backup works.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { MAX_BACKUP_ROOT_BYTES } from "../src/config/config.ts";
import { statePaths } from "../src/engine/session/session.ts";
import { type CliResult, type Fixture, makeFixture, readTree, writeConfig } from "./helpers.ts";
import { exists } from "./reliability/util.ts";

const ignore = Deno.build.os === "windows"; // the limit is the unix VFS's

/** A path below `base` of exactly `bytes` bytes (ASCII), made of folder names of <= 200. */
function pathOfLength(base: string, bytes: number): string {
  let path = base;
  while (path.length < bytes) {
    const room = bytes - path.length - 1;
    // Never leave a remainder of 1, which a separator alone would take.
    const take = room > 200 ? Math.min(200, room - 2) : room;
    path = join(path, "d".repeat(take));
  }
  assert.equal(path.length, bytes);
  return path;
}

/** Every path under `dir`, for "nothing changed" checks. */
function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of Deno.readDirSync(join(dir, rel))) {
      out.push(join(rel, e.name));
      if (e.isDirectory) walk(join(rel, e.name));
    }
  };
  walk("");
  return out.sort();
}

function setRoot(fx: Fixture, root: string): void {
  writeConfig(fx.config, { sources: ["./source"], backup_root: root, log_dir: "./logs" });
}

/** Exit 2 with the one-line configuration error for `root`. */
function assertTooLong(r: CliResult, fx: Fixture, root: string): void {
  assert.equal(r.code, 2, r.stderr + r.stdout);
  const bytes = new TextEncoder().encode(root).length;
  const expected = `Cannot load config '${fx.config}': 'backup_root' '${root}' is too long: its ` +
    `path is ${bytes} bytes, and SQLite can open the backup state inside it only within ` +
    `${MAX_BACKUP_ROOT_BYTES} bytes (its file names end at 512 bytes, and ` +
    `'/.backup-tool/state.db-journal' takes 30): choose a folder with a shorter path, or ` +
    `move this backup to one (a symlink does not help, SQLite follows it to the long path)`;
  assert.ok(r.stderr.includes(expected), r.stderr);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.ok(!r.stderr.includes("unable to open database file"), r.stderr);
}

Deno.test({
  name: "the limit is the state's journal name against SQLite's 512 bytes",
  ignore,
  fn() {
    const root = "/r".padEnd(MAX_BACKUP_ROOT_BYTES, "x");
    assert.equal(`${statePaths(root).db}-journal`.length, 512);
  },
});

Deno.test({
  name: "run: a root one byte too long is refused with exit 2, nothing created",
  ignore,
  async fn() {
    using fx = makeFixture({ "one.txt": "one\n" });
    const real = Deno.realPathSync(fx.dir);
    // An existing, empty folder, and one that does not exist yet.
    const existing = pathOfLength(join(real, "e"), MAX_BACKUP_ROOT_BYTES + 1);
    Deno.mkdirSync(existing, { recursive: true });
    const missing = pathOfLength(join(real, "m"), MAX_BACKUP_ROOT_BYTES + 40);
    for (const root of [existing, missing]) {
      setRoot(fx, root);
      for (const command of ["run", "watch", "plan"]) {
        const r = await fx.cli(command);
        assertTooLong(r, fx, root);
      }
    }
    assert.deepEqual(listing(existing), []);
    assert.ok(!exists(join(real, "m")), "nothing of the missing root is created");
    assert.ok(!exists(fx.logs), "no log is written");
  },
});

Deno.test({
  name: "run: a root of a multi-byte name is measured in bytes",
  ignore,
  async fn() {
    using fx = makeFixture({ "one.txt": "one\n" });
    const real = Deno.realPathSync(fx.dir);
    // 120 two-byte letters: 120 characters, 240 bytes, plus the rest in ASCII.
    const wide = join(real, "é".repeat(120));
    const ascii = new TextEncoder().encode(wide).length;
    const root = pathOfLength(wide, wide.length + MAX_BACKUP_ROOT_BYTES + 1 - ascii);
    assert.ok(root.length <= MAX_BACKUP_ROOT_BYTES, "short in characters");
    setRoot(fx, root);
    assertTooLong(await fx.cli("run"), fx, root);
    assert.ok(!exists(wide));
  },
});

Deno.test({
  name: "run: a root exactly at the limit backs up and restores",
  ignore,
  async fn() {
    using fx = makeFixture({ "one.txt": "one\n" });
    const root = pathOfLength(join(Deno.realPathSync(fx.dir), "b"), MAX_BACKUP_ROOT_BYTES);
    setRoot(fx, root);
    const run = await fx.cli("run");
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.deepEqual(readTree(root), { "one.txt": "one\n" });
    assert.ok(exists(statePaths(root).db));
    const verify = await fx.cli("verify");
    assert.equal(verify.code, 0, verify.stderr + verify.stdout);
    const to = join(fx.dir, "restored");
    const restore = await fx.cli("restore", "one.txt", "--to", to);
    assert.equal(restore.code, 0, restore.stderr + restore.stdout);
    assert.deepEqual(readTree(to), { "one.txt": "one\n" });
  },
});

Deno.test({
  name: "restore, verify, history: a backup moved under a too long path is a config error",
  ignore,
  async fn() {
    using fx = makeFixture({ "one.txt": "one\n" });
    const first = await fx.cli("run");
    assert.equal(first.code, 0, first.stderr + first.stdout);
    const root = pathOfLength(join(Deno.realPathSync(fx.dir), "moved"), 600);
    Deno.mkdirSync(join(root, ".."), { recursive: true });
    Deno.renameSync(fx.backup, root);
    setRoot(fx, root);
    const before = listing(root);
    const to = join(fx.dir, "restored");
    for (
      const args of [["restore", "source/one.txt", "--to", to], ["verify"], [
        "history",
        "source/one.txt",
      ]]
    ) {
      assertTooLong(await fx.cli(...args), fx, root);
    }
    assert.deepEqual(listing(root), before, "the backup is left as it was");
    assert.ok(!exists(to));
  },
});
