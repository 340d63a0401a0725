/**
 * What a run cannot store is named with what to do, and the run exits 1, the other files
 * backed up: a symlink whose target is not valid UTF-8 (Deno reads a target as a string),
 * a file whose path below the backup root is longer than the system allows.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, writeConfig } from "./helpers.ts";

Deno.test({
  name: "a symlink whose target is not valid UTF-8 is named with a remedy, never skipped silently",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a" });
    const made = new Deno.Command("bash", {
      args: ["-c", `ln -s $'tar\\xffget' ${JSON.stringify(join(fx.source, "badlink"))}`],
    }).outputSync();
    assert.equal(made.code, 0, new TextDecoder().decode(made.stderr));
    const run = await fx.cli("run", "-q");
    assert.equal(run.code, 1, run.stderr);
    const line = `ERROR: source/badlink: Cannot read link '${join(fx.source, "badlink")}': ` +
      "its target is not valid UTF-8, which this tool cannot store: point the link at a path " +
      "of valid UTF-8, or exclude it";
    assert.equal(run.stderr, `${line}\n`);
    assert.ok(fx.lastLog().includes(line), fx.lastLog().join("\n"));
    assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt")), "a");
  },
});

Deno.test({
  name: "a file whose path in the backup is too long is named with a remedy",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    // The source path fits in 4095 bytes, its path below the longer backup root does not.
    using fx = makeFixture({ "a.txt": "a" }, { backup_root: "./backup-of-a-longer-name" });
    let dir = fx.source;
    while (dir.length < 4095 - 260) {
      dir = join(dir, "d".repeat(200));
      Deno.mkdirSync(dir);
    }
    const file = join(dir, "f".repeat(4095 - dir.length - 1 - 4));
    assert.equal(file.length, 4091); // 4091 + 18 more bytes in the backup root's name
    Deno.writeTextFileSync(file, "deep");
    const run = await fx.cli("run", "-q");
    assert.equal(run.code, 1, run.stderr);
    assert.match(
      run.stderr,
      /^ERROR: source\/d+\/.*: Cannot place '.*': File name too long \(os error 36\): .*: its path in the backup is too long \(a path holds at most 4095 bytes, the backup root's included, and a name 255\): shorten the path in the source, or exclude it; the copy stored before, if any, is kept\n$/,
    );
    assert.equal(Deno.readTextFileSync(join(fx.dir, "backup-of-a-longer-name", "a.txt")), "a");
  },
});

Deno.test({
  name: "a changed file whose old content's path in versions/ is too long fails alone, every run",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    // Its copy's path fits in 4095 bytes, 'versions/' and '/v1.bak' around it do not: a
    // failed archive made the flush of its folder in versions/ fail the whole run, and every
    // run after it, in its recovery (nothing else backed up again).
    using fx = makeFixture({ "a.txt": "a" });
    let dir = fx.source;
    const backupDir = (d: string) => fx.backup + d.slice(fx.source.length);
    while (backupDir(dir).length < 4095 - 260) {
      dir = join(dir, "d".repeat(200));
      Deno.mkdirSync(dir);
    }
    const file = join(dir, "f".repeat(4095 - backupDir(dir).length - 1 - 4));
    Deno.writeTextFileSync(file, "deep");
    assert.equal((await fx.cli("run", "-q")).code, 0);
    Deno.writeTextFileSync(file, "deep, changed");
    for (const content of ["a, changed", "a, changed again"]) {
      Deno.writeTextFileSync(join(fx.source, "a.txt"), content);
      const run = await fx.cli("run", "-q");
      assert.equal(run.code, 1, run.stderr);
      assert.match(
        run.stderr,
        /^ERROR: source\/d+\/.*: Cannot move 'd+\/.*' to 'versions\/d+\/.*\/v1\.bak': File name too long \(os error 36\): .*: its place in versions\/ is too long \(a path holds at most 4095 bytes, the backup root's included\): move the backup root to a shorter path, then point backup_root at it; its copy is kept where it is\n$/,
      );
      assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt")), content);
      assert.equal(Deno.readTextFileSync(backupDir(file)), "deep");
    }
  },
});

Deno.test({
  name: "a deleted file whose place in _deleted/ is too long fails alone, with a remedy that works",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    // Its copy's path fits in 4095 bytes, '_deleted/' before it does not. The file is gone
    // from the source (and a vanished file excluded is archived as deleted all the same):
    // the remedy that works is a shorter backup root.
    const longer = "backup-of-a-longer-name";
    using fx = makeFixture({ "a.txt": "a" }, { backup_root: `./${longer}` });
    const root = join(fx.dir, longer);
    let dir = fx.source;
    const backupDir = (d: string) => root + d.slice(fx.source.length);
    while (backupDir(dir).length < 4095 - 260) {
      dir = join(dir, "d".repeat(200));
      Deno.mkdirSync(dir);
    }
    const file = join(dir, "f".repeat(4095 - backupDir(dir).length - 1 - 4));
    Deno.writeTextFileSync(file, "deep");
    assert.equal((await fx.cli("run", "-q")).code, 0);
    Deno.removeSync(join(fx.source, "d".repeat(200)), { recursive: true });
    for (const content of ["a, changed", "a, changed again"]) {
      Deno.writeTextFileSync(join(fx.source, "a.txt"), content);
      const run = await fx.cli("run", "-q");
      assert.equal(run.code, 1, run.stderr);
      assert.match(
        run.stderr,
        /^ERROR: source\/d+\/.*: Cannot move 'd+\/.*' to '_deleted\/d+\/.*': .*File name too long \(os error 36\): .*: its place in _deleted\/ is too long \(a path holds at most 4095 bytes, the backup root's included\): move the backup root to a shorter path, then point backup_root at it; its copy is kept where it is\n$/,
      );
      assert.equal(Deno.readTextFileSync(join(root, "a.txt")), content);
      assert.equal(Deno.readTextFileSync(backupDir(file)), "deep");
    }
    const verify = await fx.cli("verify");
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);

    // The remedy: the backup root moved to a path 22 bytes shorter.
    const shorter = join(fx.dir, "b");
    Deno.renameSync(root, shorter);
    writeConfig(fx.config, { sources: ["./source"], backup_root: "./b", log_dir: "./logs" });
    const run = await fx.cli("run", "-q");
    assert.equal(run.code, 0, run.stderr);
    const deleted = join(shorter, "_deleted", file.slice(fx.source.length + 1));
    assert.equal(Deno.readTextFileSync(deleted), "deep");
  },
});
