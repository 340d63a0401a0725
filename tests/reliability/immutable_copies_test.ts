/**
 * Backup-root entries the tool cannot change, for real (`chattr +i`, `chattr +a`, as
 * root): a version retention must prune, a copy that must move to versions/, a folder
 * that lets no name out, the state folder; and a folder bind-mounted read-only (in a
 * mount namespace of its own, `unshare -m`). Each is a failure of its own, said once with
 * its cause and remedy, with no wait: Linux never lets such a change through a moment
 * later (EPERM is no Windows sharing violation). The next run after `chattr -i` converges.
 * Skipped, with a message, where chattr cannot set these flags (or unshare is not there).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, runProgram, toolCommand, writeConfig } from "../helpers.ts";
import { canUnshare } from "../fstab_namespace.ts";
import { listDir } from "./util.ts";
import { whyNoChattr, withFlag } from "./chattr.ts";

const NO_CHATTR = await whyNoChattr();
if (NO_CHATTR) console.log(`SKIP chattr tests: ${NO_CHATTR}`);
const noChattr = NO_CHATTR !== undefined;

const FILES = ["a", "b", "c", "d"];
const BASE = { sources: ["./source"], backup_root: "./backup", log_dir: "./logs" };

Deno.test({
  name: "versions retention cannot prune (immutable) fail at once, each said once; then pruned",
  ignore: noChattr || Deno.build.os === "windows",
  fn: async () => {
    using fx = makeFixture(
      Object.fromEntries(FILES.map((f) => [f, `${f}1\n`])),
      { retention: { max_versions_per_file: 1 } },
    );
    assert.equal((await fx.cli("run")).code, 0);
    for (const n of [2, 3]) {
      for (const f of FILES) Deno.writeTextFileSync(join(fx.source, f), `${f}${n}\n`);
      if (n === 3) break;
      assert.equal((await fx.cli("run")).code, 0);
    }
    const v1 = FILES.map((f) => join(fx.backup, "versions", f, "v1.bak"));
    const started = Date.now();
    const r = await withFlag("+i", v1, () => fx.cli("run"));
    const took = Date.now() - started;
    assert.equal(r.code, 1, r.stderr);
    for (const f of FILES) {
      assert.equal(r.stderr.split(`ERROR: source/${f}:`).length - 1, 1, r.stderr);
      assert.equal(Deno.readTextFileSync(join(fx.backup, f)), `${f}3\n`);
    }
    // Before: each removal was retried for 2 s, as a Windows sharing violation is.
    assert.ok(took < 5000, `the run took ${took} ms`);
    const next = await fx.cli("run");
    assert.equal(next.code, 0, next.stderr);
    for (const f of FILES) assert.deepEqual(listDir(join(fx.backup, "versions", f)), ["v2.bak"]);
    assert.equal((await fx.cli("verify")).code, 0);
  },
});

const REMEDY = /immutable or append-only \('lsattr -d' shows i or a on either\): take the flag off/;

Deno.test({
  name: "a copy retention, a run, verify --repair or restore cannot change is said with the cause",
  ignore: noChattr || Deno.build.os !== "linux",
  fn: async () => {
    using fx = makeFixture({ "a": "a1\n", "b": "b1\n" }, {
      retention: { max_versions_per_file: 1 },
    });
    assert.equal((await fx.cli("run")).code, 0);
    Deno.writeTextFileSync(join(fx.source, "a"), "a2\n");
    assert.equal((await fx.cli("run")).code, 0);
    Deno.writeTextFileSync(join(fx.source, "a"), "a3\n");
    Deno.writeTextFileSync(join(fx.source, "b"), "b2\n");
    // v1 of a to prune, the latest copy of b to archive: neither can leave its name.
    const v1 = join(fx.backup, "versions", "a", "v1.bak");
    const b = join(fx.backup, "b");
    const r = await withFlag("+i", [v1, b], () => fx.cli("run"));
    assert.equal(r.code, 1, r.stderr);
    const line = (path: string) =>
      r.stderr.split("\n").find((l) => l.startsWith(`ERROR: ${path}:`));
    // Its own path, not the /proc/self/fd one it was removed through.
    assert.ok(line("source/a")?.includes(`remove '${v1}'`), r.stderr);
    assert.match(line("source/a")!, REMEDY);
    assert.match(line("source/a")!, /then run again$/);
    assert.match(line("source/b")!, REMEDY);
    // A damaged copy verify --repair cannot put aside, a restore over an immutable file.
    Deno.writeTextFileSync(join(fx.backup, "a"), "damaged\n");
    const repair = await withFlag("+i", [join(fx.backup, "a")], () => fx.cli("verify", "--repair"));
    assert.equal(repair.code, 1);
    assert.match(
      repair.stdout + repair.stderr,
      /NOT REPAIRED: a .*then run 'verify --repair --config \S+' again/,
    );
    const out = join(fx.dir, "out");
    Deno.mkdirSync(out);
    Deno.writeTextFileSync(join(out, "b"), "mine\n");
    const restore = await withFlag(
      "+i",
      [join(out, "b")],
      () => fx.cli("restore", "b", "--to", out, "--overwrite"),
    );
    assert.equal(restore.code, 1);
    assert.match(restore.stderr, /NOT RESTORED: source\/b .*then restore again/);
    assert.equal(Deno.readTextFileSync(join(out, "b")), "mine\n");
    // Nothing lost: the flags off, all goes through.
    assert.equal((await fx.cli("verify", "--repair")).code, 0);
    assert.equal((await fx.cli("run")).code, 0);
    assert.deepEqual(listDir(join(fx.backup, "versions", "a")), ["v2.bak"]);
    assert.equal(Deno.readTextFileSync(join(fx.backup, "versions", "b", "v1.bak")), "b1\n");
    assert.equal((await fx.cli("verify")).code, 0);
  },
});

Deno.test({
  name:
    "a state folder immutable or append-only is said so; nothing is left in it; then the run goes through",
  ignore: noChattr || Deno.build.os !== "linux",
  fn: async () => {
    using fx = makeFixture({ "a": "a1\n" });
    assert.equal((await fx.cli("run")).code, 0);
    Deno.writeTextFileSync(join(fx.source, "a"), "a2\n");
    const state = join(fx.backup, ".backup-tool");
    for (const flag of ["+a", "+i"] as const) {
      const r = await withFlag(flag, [state], () => fx.cli("run"));
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /^Backup failed: Cannot write the backup state in '.*\.backup-tool' \(.*\): the folder is immutable or append-only \('lsattr -d' shows i or a\): take the flag off with 'chattr -i' or 'chattr -a', then run again; nothing was changed\n$/,
      );
      assert.equal(Deno.readTextFileSync(join(state, "lock")), "");
    }
    const next = await fx.cli("run");
    assert.equal(next.code, 0, next.stderr);
    // The disk-full probe an append-only folder kept, removed (before: left for good).
    assert.deepEqual(listDir(state).filter((n) => n.endsWith(".probe")), []);
    assert.equal(Deno.readTextFileSync(join(fx.backup, "a")), "a2\n");
    assert.equal(Deno.readTextFileSync(join(fx.backup, "versions", "a", "v1.bak")), "a1\n");
    assert.equal((await fx.cli("verify")).code, 0);
  },
});

Deno.test({
  name: "a folder of the backup root bind-mounted read-only: each move is said with the mount",
  ignore: !canUnshare,
  fn: async () => {
    using fx = makeFixture({ "d/a": "a1\n", "d/b": "b1\n" });
    assert.equal((await fx.cli("run")).code, 0);
    Deno.writeTextFileSync(join(fx.source, "d", "a"), "a2\n");
    Deno.writeTextFileSync(join(fx.source, "d", "new"), "n\n");
    const d = join(fx.backup, "d");
    const { cmd, args } = toolCommand(["run", "--config", fx.config]);
    // In a mount namespace of its own: nothing is left mounted.
    const script = 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" && exec "$@"';
    const r = await runProgram(
      "unshare",
      ["--mount", "--propagation", "private", "sh", "-c", script, d, cmd, ...args],
    );
    assert.equal(r.code, 1, r.stderr);
    for (const f of ["d/a", "d/new"]) {
      const line = r.stderr.split("\n").filter((l) => l.startsWith(`ERROR: source/${f}:`));
      assert.equal(line.length, 1, r.stderr);
      assert.match(
        line[0],
        /\(os error 18\).*: a folder of the backup root is a mount of its own .*'findmnt -R'.*: unmount it, then run again$/,
      );
    }
    assert.equal((await fx.cli("run")).code, 0);
    assert.equal(Deno.readTextFileSync(join(fx.backup, "versions", "d", "a", "v1.bak")), "a1\n");
    assert.equal((await fx.cli("verify")).code, 0);
  },
});

Deno.test({
  name:
    "purge --yes of an immutable copy: said once, with the remedy; left; purged once the flag is off",
  ignore: noChattr || Deno.build.os !== "linux",
  fn: async () => {
    using fx = makeFixture({ "a": "a\n", "secret": "s\n" });
    assert.equal((await fx.cli("run")).code, 0);
    writeConfig(fx.config, { ...BASE, exclude: ["secret"] });
    assert.equal((await fx.cli("run")).code, 0);
    const copy = join(fx.backup, "secret");
    const r = await withFlag("+i", [copy], () => fx.cli("purge", "secret", "--yes"));
    assert.equal(r.code, 1, r.stdout + r.stderr);
    // Once: on stderr, as a run says its failures (before: on stdout too).
    assert.equal(`${r.stdout}${r.stderr}`.split("ERROR: source/secret:").length - 1, 1, r.stdout);
    assert.match(
      r.stderr,
      /'chattr -i' or 'chattr -a', then purge again; the copy was left in place/,
    );
    assert.equal(Deno.readTextFileSync(copy), "s\n");
    const again = await fx.cli("purge", "secret", "--yes");
    assert.equal(again.code, 0, again.stderr);
    assert.ok(fx.lastLog().includes("PURGE delete: secret"), fx.lastLog().join("\n"));
    assert.equal((await fx.cli("verify")).code, 0);
  },
});

Deno.test({
  name:
    "purge --yes of a folder one of whose copies is immutable keeps its folder records until the same purge again deletes them all",
  ignore: noChattr || Deno.build.os !== "linux",
  fn: async () => {
    using fx = makeFixture({ "a": "a\n", "d/f.txt": "f\n" });
    Deno.mkdirSync(join(fx.source, "d", "empty"));
    assert.equal((await fx.cli("run")).code, 0);
    writeConfig(fx.config, { ...BASE, exclude: ["d/"] });
    assert.equal((await fx.cli("run")).code, 0);
    const copy = join(fx.backup, "d", "f.txt");
    const r = await withFlag("+i", [copy], () => fx.cli("purge", "d", "--yes"));
    assert.equal(r.code, 1, r.stdout + r.stderr);
    // Was: 'PURGE folders: source/d (2 folder record(s) ...)' and d/empty forgotten, while
    // d/f.txt, its copy left, still came back from a restore of the first run's moment.
    assert.ok(!r.stdout.includes("PURGE folders:"), r.stdout);
    const kept = await fx.cli("history", "d/empty", "--json");
    assert.equal(kept.code, 0, kept.stderr);
    assert.equal(JSON.parse(kept.stdout).stood.length, 1);
    const again = await fx.cli("purge", "d", "--yes");
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /PURGE folders: source\/d \(2 folder record\(s\)/);
    assert.equal((await fx.cli("history", "d/empty")).code, 1);
  },
});

Deno.test({
  name: "an immutable copy whose file's mode and time changed: said by its path, with the remedy",
  ignore: noChattr || Deno.build.os !== "linux",
  fn: async () => {
    using fx = makeFixture({ "a": "a\n", "b": "b\n" });
    assert.equal((await fx.cli("run")).code, 0);
    Deno.chmodSync(join(fx.source, "a"), 0o600);
    Deno.utimeSync(join(fx.source, "b"), new Date(2020, 0, 1), new Date(2020, 0, 1));
    const copies = ["a", "b"].map((f) => join(fx.backup, f));
    const r = await withFlag("+i", copies, () => fx.cli("run"));
    assert.equal(r.code, 1, r.stderr);
    for (const copy of copies) {
      const lines = r.stderr.split("\n").filter((l) => l.includes(`'${copy}'`));
      assert.equal(lines.length, 1, r.stderr); // before: '/proc/self/fd/N', no remedy
      assert.match(lines[0], REMEDY);
    }
    assert.equal((await fx.cli("run")).code, 0);
    assert.equal(Deno.statSync(copies[0]).mode! & 0o777, 0o600);
    assert.equal(Deno.statSync(copies[1]).mtime!.getFullYear(), 2020);
    assert.equal((await fx.cli("verify")).code, 0);
  },
});

Deno.test({
  name: "restore in place into an immutable source folder: said so, the others restored",
  ignore: noChattr || Deno.build.os !== "linux",
  fn: async () => {
    using fx = makeFixture({ "d/a": "a\n", "e/b": "b\n" });
    assert.equal((await fx.cli("run")).code, 0);
    Deno.removeSync(join(fx.source, "d", "a"));
    Deno.removeSync(join(fx.source, "e", "b"));
    const d = join(fx.source, "d");
    const r = await withFlag("+i", [d], () => fx.cli("restore", "."));
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /NOT RESTORED: source\/d\/a .*Cannot write in '.*\/d': operation not permitted: the folder is immutable .*'chattr -i'/,
    );
    assert.equal(Deno.readTextFileSync(join(fx.source, "e", "b")), "b\n");
    assert.equal((await fx.cli("restore", ".")).code, 0);
    assert.equal(Deno.readTextFileSync(join(d, "a")), "a\n");
  },
});
