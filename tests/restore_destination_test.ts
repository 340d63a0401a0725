/**
 * End-to-end tests of where a restore may not write, through the real CLI: a `--to` folder
 * holding the backup root (or a bind mount of it, as root) has the files that would land in
 * the root refused, its copies untouched; a file where a folder must be is named as such.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, runProgram, toolCommand, writeTree } from "./helpers.ts";
import { ok, put } from "./restore_helpers.ts";

Deno.test("a --to folder that holds the backup root: files that would land in the root are refused, its copies untouched", async () => {
  // The backup root is <dir>/backup; the source holds a folder named backup too.
  using fx = makeFixture({});
  put(fx.source, { "foo": "content A\n", "backup/foo": "content B\n", "other.txt": "o\n" });
  await ok(fx, "run");
  const r = await fx.cli("restore", "--to", fx.dir, "--overwrite");
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(
    r.stderr,
    /^NOT RESTORED: source\/backup\/foo \(v1\): Cannot restore to '.*backup\/foo': it is inside the backup root/m,
  );
  assert.equal(Deno.readTextFileSync(join(fx.backup, "foo")), "content A\n"); // foo's copy
  assert.equal(Deno.readTextFileSync(join(fx.dir, "other.txt")), "o\n");
  assert.equal((await fx.cli("verify")).code, 0);
});

Deno.test("a file where a folder must be is named as such", async () => {
  using fx = makeFixture({});
  put(fx.source, { "d/e/f.txt": "f\n" });
  await ok(fx, "run");
  for (const inTheWay of ["d", "d/e"]) {
    const out = join(fx.dir, `out-${inTheWay.replace("/", "-")}`);
    writeTree(out, { [inTheWay]: "a file in the way\n" });
    const r = await fx.cli("restore", "--to", out);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `^NOT RESTORED: source/d/e/f\\.txt \\(v1\\): Cannot restore to '.*': '.*${inTheWay}' is a file where a folder must be: move it away, or restore to another --to folder$`,
        "m",
      ),
    );
  }
});

Deno.test({
  name: "the backup root mounted elsewhere too (a bind mount) is still never restored into",
  ignore: Deno.build.os !== "linux" || Deno.uid() !== 0, // mount --bind needs root
  fn: async () => {
    using fx = makeFixture({});
    put(fx.source, { "a.txt": "one\n", "view/a.txt": "a file of a folder named view\n" });
    await ok(fx, "run");
    const outer = join(fx.dir, "outer");
    const view = join(outer, "view");
    Deno.mkdirSync(view, { recursive: true });
    const command = (...args: string[]) =>
      new Deno.Command(args[0], { args: args.slice(1) }).outputSync();
    assert.equal(command("mount", "--bind", fx.backup, view).code, 0);
    try {
      const direct = await fx.cli("restore", "--to", view, "--overwrite");
      assert.equal(direct.code, 2, direct.stdout + direct.stderr);
      assert.match(direct.stderr, /inside the backup root/);
      // A --to holding the mount: the file that would land in it is refused, the rest goes.
      const r = await fx.cli("restore", "--to", outer, "--overwrite");
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(
        r.stderr,
        /^NOT RESTORED: source\/view\/a\.txt \(v1\): .* inside the backup root .*\(mounted at/m,
      );
      assert.equal(Deno.readTextFileSync(join(outer, "a.txt")), "one\n");
      assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt")), "one\n", "the copy is intact");
      assert.equal((await fx.cli("verify")).code, 0);
      // A folder inside the backup root mounted elsewhere is inside it too.
      const part = join(fx.dir, "part");
      Deno.mkdirSync(part);
      assert.equal(command("mount", "--bind", join(fx.backup, "view"), part).code, 0);
      try {
        const sub = await fx.cli("restore", "view", "--to", part, "--overwrite");
        assert.equal(sub.code, 2, sub.stdout + sub.stderr);
        assert.match(sub.stderr, /inside the backup root/);
      } finally {
        command("umount", part);
      }
      assert.equal((await fx.cli("verify")).code, 0);
    } finally {
      command("umount", view);
    }
  },
});

Deno.test({
  name: "under umask 000, the --to folders a restore makes are not writable by others",
  ignore: Deno.build.os === "windows", // no POSIX permission bits there
  fn: async () => {
    // A restore from a job started with umask 000 (a unit's UMask=0000, a crontab's
    // `umask 0`): any local user could remove or replace the files restored in a folder
    // writable by all, as a run's backup root's folders could be before 2026-12-05.
    using fx = makeFixture({ "a.txt": "a\n", "d/b.txt": "b\n" });
    await ok(fx, "run");
    const to = join(fx.dir, "restored", "here");
    const { cmd, args } = toolCommand(["restore", "--to", to, "--config", fx.config]);
    const r = await runProgram("sh", ["-c", 'umask 000 && exec "$0" "$@"', cmd, ...args]);
    assert.equal(r.code, 0, r.stderr);
    for (const made of [join(fx.dir, "restored"), to]) {
      assert.equal(
        Deno.statSync(made).mode! & 0o022,
        0,
        (Deno.statSync(made).mode! & 0o777).toString(8),
      );
    }
    assert.equal(Deno.readTextFileSync(join(to, "d", "b.txt")), "b\n");
  },
});

Deno.test({
  name:
    "under umask 000, the folders above a source a restore in place makes are not writable by others",
  ignore: Deno.build.os === "windows", // no POSIX permission bits there
  fn: async () => {
    // The source's folder and the one above it gone (a disk replaced), restored in place
    // from a job under umask 000: the folder above, whose mode no run recorded, was made
    // writable by all (0777).
    using fx = makeFixture({}, { sources: ["./top/src"] });
    const src = join(fx.dir, "top", "src");
    writeTree(src, { "d/b.txt": "b\n" });
    await ok(fx, "run");
    Deno.removeSync(join(fx.dir, "top"), { recursive: true });
    const { cmd, args } = toolCommand(["restore", "--config", fx.config]);
    const r = await runProgram("sh", ["-c", 'umask 000 && exec "$0" "$@"', cmd, ...args]);
    assert.equal(r.code, 0, r.stderr);
    for (const made of [join(fx.dir, "top"), src, join(src, "d")]) {
      const mode = Deno.statSync(made).mode! & 0o777;
      assert.equal(mode & 0o022, 0, `${made}: ${mode.toString(8)}`);
    }
    assert.equal(Deno.readTextFileSync(join(src, "d", "b.txt")), "b\n");
  },
});
