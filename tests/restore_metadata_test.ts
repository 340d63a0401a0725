/**
 * End-to-end tests of the metadata and scale of a restore, through the real CLI: files get
 * their recorded mode and time (to the millisecond, before 1970 too), symlinks their own
 * time, the folders a restore
 * makes get their source folders' mode and time, a source folder restored whole its own
 * mode; and a restore of several batches (1,300 files in nested folders) leaves no
 * temporary file and is up to date when run again.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, writeTree } from "./helpers.ts";
import { ok, put, snapshot } from "./restore_helpers.ts";

Deno.test("a restore of several batches: 1,300 files in nested folders, with modes and times, into new and existing folders", async () => {
  // More files than one batch flushes (512), in folders made by the restore, folders that
  // exist already (holding a file the restore must leave alone), and the --to folder's top.
  const files: Record<string, string> = {};
  for (let i = 0; i < 1300; i++) {
    files[`d${i % 5}/s${i % 3}/f${i}.txt`] = `file ${i} ${"x".repeat(i % 97)}`;
  }
  files["top.txt"] = "at the top";
  using fx = makeFixture({});
  put(fx.source, files);
  Deno.chmodSync(join(fx.source, "d1", "s2", "f11.txt"), 0o640);
  Deno.chmodSync(join(fx.source, "d2", "s1", "f7.txt"), 0o4755); // setuid: set after writing
  await ok(fx, "run");
  const out = join(fx.dir, "out");
  writeTree(out, { "d3/s0/mine.txt": "a file the restore must not touch" });
  const summary = await ok(fx, "restore", "--to", out);
  assert.match(summary, /Restore complete: 1301 restored, 0 up to date, 0 not restored/);
  const restored = snapshot(out);
  assert.equal(
    new TextDecoder().decode((restored["d3/s0/mine.txt"] as { bytes: Uint8Array }).bytes),
    "a file the restore must not touch",
  );
  delete restored["d3/s0/mine.txt"];
  assert.deepEqual(restored, snapshot(fx.source));
  // No temporary file is left anywhere.
  const leftovers: string[] = [];
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(dir)) {
      if (e.isDirectory) walk(join(dir, e.name));
      else if (e.name.includes(".backup-tool-restore-")) leftovers.push(e.name);
    }
  };
  walk(out);
  assert.deepEqual(leftovers, []);
  // Again over the restored tree: every file up to date, none rewritten.
  assert.match(await ok(fx, "restore", "--to", out), /0 restored, 1301 up to date/);
});

Deno.test({
  name: "restore gives the folders it makes the mode and time their source folders had",
  ignore: Deno.build.os === "windows", // no POSIX permission bits there
  fn: async () => {
    // Over 1,024 entries, so that the folders after them are walked by the staging worker.
    const many = Object.fromEntries(
      Array.from({ length: 1100 }, (_, i) => [`a/f${i}.txt`, `${i}\n`]),
    );
    using fx = makeFixture({ ...many, "z/priv/inner/secret.txt": "s\n", "z/shared/x": "x\n" });
    const at = (p: string) => join(fx.source, p);
    Deno.chmodSync(at("z/priv"), 0o700);
    Deno.chmodSync(at("z/priv/inner"), 0o711);
    Deno.chmodSync(at("z/shared"), 0o1777);
    const then = new Date("2020-01-01T00:00:00Z");
    for (const d of ["z/priv/inner", "z/priv", "z/shared", "a"]) Deno.utimeSync(at(d), then, then);
    assert.equal((await fx.cli("run")).code, 0);

    const out = join(fx.dir, "out");
    const r = await fx.cli("restore", "--to", out);
    assert.equal(r.code, 0, r.stderr);
    const meta = (p: string) => {
      const info = Deno.statSync(join(out, p));
      return { mode: info.mode! & 0o7777, mtime: info.mtime!.toISOString() };
    };
    const t = then.toISOString();
    assert.deepEqual(meta("z/priv"), { mode: 0o700, mtime: t });
    assert.deepEqual(meta("z/priv/inner"), { mode: 0o711, mtime: t });
    assert.deepEqual(meta("z/shared"), { mode: 0o1777, mtime: t });
    assert.deepEqual(meta("a"), { mode: Deno.statSync(at("a")).mode! & 0o7777, mtime: t });

    // A folder that exists is left as it is; a mode changed since is taken by the next run.
    Deno.chmodSync(at("z/priv"), 0o750);
    assert.equal((await fx.cli("run")).code, 0);
    Deno.removeSync(at("z"), { recursive: true });
    assert.equal((await fx.cli("restore", "z")).code, 0);
    assert.equal(Deno.statSync(at("z/priv")).mode! & 0o7777, 0o750);
    assert.equal(Deno.statSync(at("z/priv/inner")).mtime!.toISOString(), t);
  },
});

Deno.test("restore gives files their recorded time to the millisecond, before 1970 too", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "old.txt": "old\n", "private.txt": "p\n" });
  const times: Record<string, number> = {
    "a.txt": Date.parse("2026-12-01T10:00:00.123Z"), // .123 is no exact binary fraction
    "old.txt": -1876, // 1969-12-31T23:59:58.124Z
    "private.txt": Date.parse("2026-12-01T10:00:00.999Z"),
  };
  Deno.chmodSync(join(fx.source, "private.txt"), 0o600); // set through a chmod as well
  for (const [name, ms] of Object.entries(times)) {
    Deno.utimeSync(join(fx.source, name), new Date(ms), new Date(ms));
  }
  assert.equal((await fx.cli("run")).code, 0);
  const out = join(fx.dir, "out");
  assert.equal((await fx.cli("restore", "--to", out)).code, 0);
  for (const [name, ms] of Object.entries(times)) {
    assert.equal(Deno.statSync(join(out, name)).mtime!.getTime(), ms, name);
  }
  // Restored files are what the backup holds: restoring again over them finds them so.
  const again = await fx.cli("restore", "--to", out, "--overwrite");
  assert.match(again.stdout, /0 restored, 3 up to date/);
});

Deno.test({
  name: "restore gives a symlink its own recorded time, before 1970 too, not its target's",
  // The link's own time is set through the C library (symlink_meta.ts): Linux only.
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    using fx = makeFixture({ "target.txt": "t\n" });
    const times: Record<string, number> = {
      "link": Date.parse("2010-10-10T10:10:10.500Z"),
      "old_link": -1500, // 1969-12-31T23:59:58.500Z
      "dangling": Date.parse("2001-01-01T00:00:00.000Z"),
    };
    Deno.symlinkSync("target.txt", join(fx.source, "link"));
    Deno.symlinkSync("target.txt", join(fx.source, "old_link"));
    Deno.symlinkSync("nowhere", join(fx.source, "dangling"));
    for (const [name, ms] of Object.entries(times)) {
      // touch -h: node:fs's lutimes refuses a time before 1970.
      const args = ["-h", "-d", `@${ms / 1000}`, join(fx.source, name)];
      assert.ok(new Deno.Command("touch", { args }).outputSync().success, name);
    }
    const target = Date.parse("2020-02-02T02:02:02.222Z");
    Deno.utimeSync(join(fx.source, "target.txt"), new Date(target), new Date(target));
    assert.equal((await fx.cli("run")).code, 0);
    const out = join(fx.dir, "out");
    assert.equal((await fx.cli("restore", "--to", out)).code, 0);
    for (const [name, ms] of Object.entries(times)) {
      assert.equal(Deno.lstatSync(join(out, name)).mtime!.getTime(), ms, name);
    }
    assert.equal(Deno.statSync(join(out, "target.txt")).mtime!.getTime(), target);
  },
});

Deno.test({
  name: "a source folder restored whole gets its own recorded mode back, not the umask's",
  ignore: Deno.build.os === "windows", // no POSIX permission bits there
  fn: async () => {
    using fx = makeFixture({ "id": "key\n", "sub/x": "x\n" });
    Deno.chmodSync(fx.source, 0o700); // a private folder, ~/.ssh
    assert.equal((await fx.cli("run")).code, 0);
    Deno.removeSync(fx.source, { recursive: true });
    const r = await fx.cli("restore");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(Deno.statSync(fx.source).mode! & 0o777, 0o700);
  },
});
