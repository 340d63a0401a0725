/**
 * A backup root on FAT32 and exFAT, as on most USB sticks, mounted through Linux's FUSE
 * drivers (fusefat, exfat-fuse): letter case ignored, no symlinks, no permission bits,
 * some names refused, and no shared memory for SQLite's WAL on fusefat. Runs only where
 * those tools exist and mounting is allowed (root); elsewhere it is skipped, as the CI
 * machine may lack them. Also an exFAT source followed by `watch`, whose old names still
 * answer lstat after a rename that changes only their case, and a restore's look at what
 * an exFAT disk keeps (its time step asked on Windows too).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, readTree, writeConfig, writeTree } from "../helpers.ts";
import { backedUp, filler, WatchProcess } from "../watch_helpers.ts";
import { runTool, sh } from "./util.ts";
import { DISKS, has, isRoot, withDisk } from "./fat_disks.ts";
import { ALL_KEPT, KeptMeta } from "../../src/restore/kept_meta.ts";
import type { Reached } from "../../src/restore/pinned.ts";

for (const disk of DISKS) {
  Deno.test({
    name:
      `a backup root on ${disk.name}: case folded, unstorable names and symlinks named, the rest backed up and verified`,
    ignore: disk.broken || !isRoot || !disk.tools.every(has),
    fn: async () => {
      using fx = makeFixture({
        "d/a.txt": "a\n",
        "d/README.txt": "upper\n",
        "d/Readme.txt": "mixed\n",
        "CaseDir/x.txt": "x\n",
        "casedir/y.txt": "y\n",
        "d/a:b.txt": "colon\n",
      });
      Deno.symlinkSync("a.txt", join(fx.source, "d/link"));
      await withDisk(disk, fx.dir, "64M", async (mnt) => {
        writeConfig(fx.config, {
          sources: ["./source"],
          backup_root: "./mnt/backup",
          log_dir: "./logs",
        });
        const run = () => runTool(["run", "--config", fx.config]);
        for (const round of [1, 2, 3]) {
          const r = await run();
          const context = `round ${round}: ${r.stdout}\n${r.stderr}`;
          assert.equal(r.code, 1, context);
          const errors = r.stderr.split("\n").filter((l) => l.startsWith("ERROR:"));
          assert.equal(errors.length, 2, context);
          assert.match(r.stderr, /ERROR: source\/d\/a:b.txt: .*does not allow the name 'a:b.txt'/);
          assert.match(r.stderr, /ERROR: source\/d\/link: .*has none \(FAT and exFAT have none\)/);
          if (round === 1) assert.match(r.stdout, /5 new/, context);
          else assert.match(r.stdout, /0 new, 0 updated, 0 duplicate, 5 unchanged/, context);
          // A disk that keeps no modes shows the state folder as the mount does (0777 on
          // exFAT): not said narrowed, run after run.
          const narrowed = fx.lastLog().filter((l) => l.startsWith("MODE:"));
          assert.deepEqual(narrowed, [], context);
        }
        const verify = await runTool(["verify", "--config", fx.config]);
        assert.equal(verify.code, 0, `${verify.stdout}\n${verify.stderr}`);
        assert.match(verify.stdout, /all 5 stored copies present, 5 re-hashed: intact/);
        const names = readTree(join(mnt, "backup"));
        assert.equal(names["d/Readme.txt.~2"], "mixed\n");
        const to = join(fx.dir, "restored");
        const restore = await runTool(["restore", "--to", to, "--config", fx.config]);
        assert.equal(restore.code, 0, restore.stderr);
        const expected = readTree(fx.source);
        delete expected["d/a:b.txt"];
        delete expected["d/link"];
        assert.deepEqual(readTree(to), expected);
      });
    },
  });
}

Deno.test({
  name: "a watched source on exFAT: renames that change only letter case archive the old names",
  ignore: !isRoot || !DISKS[1].tools.every(has),
  fn: async () => {
    const exfat = DISKS[1];
    using fx = makeFixture({}, { watch: { debounce_ms: 200, rescan_interval: 0 } });
    await withDisk(exfat, fx.dir, "16M", async (mnt) => {
      const source = join(mnt, "src");
      // With others, so that two renames stay below the delete guard's limit.
      writeTree(source, { ...filler(), "a.txt": "a\n", "Dir/x.txt": "x\n" });
      writeConfig(fx.config, {
        sources: ["./mnt/src"],
        backup_root: "./backup",
        log_dir: "./logs",
        watch: { debounce_ms: 200, rescan_interval: 0 },
      });
      await using w = new WatchProcess(fx);
      await w.ready();
      // The old names still answer lstat on this disk; the watch must see them gone.
      Deno.renameSync(join(source, "a.txt"), join(source, "A.txt"));
      Deno.renameSync(join(source, "Dir"), join(source, "DIR"));
      const backup = join(fx.dir, "backup");
      await backedUp(backup, "_deleted/a.txt", "a\n");
      await backedUp(backup, "_deleted/Dir/x.txt", "x\n");
      await backedUp(backup, "A.txt", "a\n");
      await backedUp(backup, "DIR/x.txt", "x\n");
      assert.equal((await w.stop()).code, 0);
      const to = join(fx.dir, "restored");
      const restore = await runTool(["restore", "--to", to, "--config", fx.config]);
      assert.equal(restore.code, 0, restore.stderr);
      assert.deepEqual(readTree(to), { ...filler(), "A.txt": "a\n", "DIR/x.txt": "x\n" });
    });
  },
});

Deno.test({
  name:
    "a backup root on exFAT: a crash after a folder renamed in case only was backed up is recovered, old and new copies apart",
  ignore: !isRoot || !DISKS[1].tools.every(has),
  fn: async () => {
    const exfat = DISKS[1];
    const files = ["f1", "f2", "f3"];
    using fx = makeFixture({
      ...filler(),
      ...Object.fromEntries(files.map((f) => [`d1/${f}`, `old ${f}\n`])),
    });
    await withDisk(exfat, fx.dir, "64M", async (mnt) => {
      writeConfig(fx.config, {
        sources: ["./source"],
        backup_root: "./mnt/backup",
        log_dir: "./logs",
        safety: { max_delete_percent: 100 },
      });
      const run = (env: Record<string, string> = {}) =>
        runTool(["run", "--config", fx.config], { env });
      assert.equal((await run()).code, 0);
      Deno.renameSync(join(fx.source, "d1"), join(fx.source, "D1"));
      for (const f of files) Deno.writeTextFileSync(join(fx.source, "D1", f), `new ${f}\n`);
      // Killed once the old copies were moved away and the new ones placed: `d1/f1` now
      // opens `D1/f1` on this disk.
      const killed = await run({ BACKUP_TOOL_FAULT: `placed:${files.length}` });
      assert.equal(killed.code, 137, killed.stderr);
      const recovered = await run();
      assert.equal(recovered.code, 0, `${recovered.stdout}\n${recovered.stderr}`);
      assert.doesNotMatch(recovered.stderr, /RECOVER undone/);
      const backup = join(mnt, "backup");
      for (const f of files) {
        assert.equal(Deno.readTextFileSync(join(backup, "D1", f)), `new ${f}\n`);
        assert.equal(Deno.readTextFileSync(join(backup, "_deleted", "d1", f)), `old ${f}\n`);
      }
      const verify = await runTool(["verify", "--config", fx.config]);
      assert.equal(verify.code, 0, `${verify.stdout}\n${verify.stderr}`);
      const again = await run();
      assert.match(again.stdout, /0 new, 0 updated/, again.stdout);
    });
  },
});

Deno.test({
  name:
    "a restore onto exFAT of twins made on Linux (README and readme, Docs/ and docs/): the later one under another name, none replaced, with --overwrite too",
  ignore: !isRoot || !DISKS[1].tools.every(has),
  fn: async () => {
    const exfat = DISKS[1];
    const nfc = "caf\u00e9";
    const nfd = "cafe\u0301";
    using fx = makeFixture({
      "d/README": "upper\n",
      "d/readme": "lower\n",
      // exfat-fuse tells Unicode normal forms apart: these two keep their names.
      [`d/${nfc}`]: "nfc\n",
      [`d/${nfd}`]: "nfd\n",
      "Docs/a.txt": "a\n",
      "Docs/b.txt": "B\n",
      "docs/b.txt": "b\n",
      "docs/c.txt": "c\n",
      "x/Sub": "file\n",
      "x/sub/g": "g\n",
    });
    const restored = {
      "d/README": "upper\n",
      "d/readme.~2": "lower\n",
      [`d/${nfc}`]: "nfc\n",
      [`d/${nfd}`]: "nfd\n",
      "Docs/a.txt": "a\n",
      "Docs/b.txt": "B\n",
      "Docs/b.txt.~2": "b\n",
      "Docs/c.txt": "c\n",
      "x/Sub.~2": "file\n",
      "x/sub/g": "g\n",
    };
    await withDisk(exfat, fx.dir, "16M", async (mnt) => {
      assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
      const to = join(mnt, "restored");
      const restore = (...args: string[]) =>
        runTool(["restore", "--to", to, ...args, "--config", fx.config]);
      for (const args of [[], [], ["--overwrite"]]) {
        const r = await restore(...args);
        const context = `${args}: ${r.stdout}\n${r.stderr}`;
        assert.equal(r.code, 0, context);
        assert.deepEqual(readTree(to), restored, context);
        assert.match(r.stdout, /0 not restored; 3 under another name/, context);
        assert.match(
          r.stderr,
          /WARNING: source\/d\/readme \(v1\): restored as '[^']*\/d\/readme\.~2': this disk takes its name for that of 'source\/d\/README', restored here too/,
          context,
        );
        assert.match(r.stderr, /source\/docs\/b.txt \(v1\): restored as '[^']*\/docs\/b.txt.~2'/);
        assert.doesNotMatch(r.stderr, /NOT RESTORED|appeared or changed/, context);
      }
      // A folder whose name a file of the restore holds there is refused, naming that file.
      const again = join(mnt, "again");
      const one = await runTool(["restore", "x/Sub", "--to", again, "--config", fx.config]);
      assert.equal(one.code, 0, one.stderr);
      const all = await runTool(["restore", "--to", again, "--overwrite", "--config", fx.config]);
      assert.equal(all.code, 1, all.stderr);
      assert.match(
        all.stderr,
        /NOT RESTORED: source\/x\/sub\/g \(v1\): Cannot restore to '[^']*\/x\/sub\/g': this disk takes the folder '[^']*\/x\/sub' for the file '[^']*\/x\/Sub', restored here too from 'source\/x\/Sub'/,
      );
      assert.equal(readTree(again)["x/Sub"], "file\n");
    });
  },
});

Deno.test({
  name:
    "a restore onto exFAT of symlinks: each not restored, said of the folder it goes to with a restore's remedy",
  ignore: !isRoot || !DISKS[1].tools.every(has),
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n", "d/b.txt": "b\n" });
    Deno.symlinkSync("a.txt", join(fx.source, "link"));
    Deno.symlinkSync("../a.txt", join(fx.source, "d", "link"));
    assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
    await withDisk(DISKS[1], fx.dir, "16M", async (mnt) => {
      const to = join(mnt, "restored");
      const r = await runTool(["restore", "--to", to, "--backup-root", fx.backup]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /2 restored, 0 up to date, 2 not restored/);
      // Until 2026-12-05 the folder was named as the restore reached it ('/proc/self/fd/N'),
      // with a backup's remedy (exclude the symlinks, back up to another disk).
      const failed = r.stderr.split("\n").filter((l) => l.startsWith("NOT RESTORED:")).sort();
      const said = (path: string, folder: string) =>
        `NOT RESTORED: source/${path} (v1): Cannot make a symlink in '${folder}': its file ` +
        "system has none (FAT and exFAT have none): restore it with --to a folder on a disk " +
        "formatted ext4, btrfs, xfs, APFS or NTFS";
      assert.deepEqual(failed, [said("d/link", join(to, "d")), said("link", to)]);
      assert.deepEqual(readTree(to), { "a.txt": "a\n", "d/b.txt": "b\n" });
    });
  },
});

Deno.test({
  name:
    "a restore onto exFAT, which keeps no modes: said once, not warned for every file, and --overwrite writes no file of the same bytes again",
  ignore: !isRoot || !DISKS[1].tools.every(has),
  fn: async () => {
    using fx = makeFixture({ "d/a.txt": "a\n", "d/b.sh": "b\n", "c.txt": "c\n" });
    Deno.chmodSync(join(fx.source, "d", "a.txt"), 0o600);
    Deno.chmodSync(join(fx.source, "d", "b.sh"), 0o755);
    await withDisk(DISKS[1], fx.dir, "16M", async (mnt) => {
      assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
      const to = join(mnt, "restored");
      const restore = (...args: string[]) =>
        runTool(["restore", "--to", to, ...args, "--config", fx.config]);
      const first = await restore();
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /3 restored, 0 up to date, 0 not restored/);
      const notes = first.stderr.split("\n").filter((l) => l.startsWith("NOTE: "));
      assert.equal(notes.length, 1, first.stderr);
      assert.match(notes[0], /^NOTE: the disk of '[^']*' keeps no file modes/);
      const inodes = () =>
        ["d/a.txt", "d/b.sh", "c.txt"].map((p) => Deno.lstatSync(join(to, p)).ino);
      const before = inodes();
      for (const args of [[], ["--overwrite"]]) {
        const r = await restore(...args);
        assert.equal(r.code, 0, `${args}: ${r.stderr}`);
        assert.match(r.stdout, /0 restored, 3 up to date, 0 not restored/, `${args}`);
        assert.doesNotMatch(r.stderr, /WARNING|its mode is/, `${args}: ${r.stderr}`);
      }
      assert.deepEqual(inodes(), before);
      assert.deepEqual(readTree(to), { "c.txt": "c\n", "d/a.txt": "a\n", "d/b.sh": "b\n" });
    });
  },
});

Deno.test({
  name:
    "a restore onto exFAT, which keeps no hard links: the names of one file restored as separate copies, said once, exit 0",
  ignore: !isRoot || !DISKS[1].tools.every(has),
  fn: async () => {
    const text = "one file, three names\n";
    using fx = makeFixture({ "d/one.txt": text, "dup.txt": text, "e/other.txt": "other\n" });
    Deno.linkSync(join(fx.source, "d/one.txt"), join(fx.source, "d/two.txt"));
    Deno.mkdirSync(join(fx.source, "f"));
    Deno.linkSync(join(fx.source, "d/one.txt"), join(fx.source, "f/three.txt"));
    await withDisk(DISKS[1], fx.dir, "16M", async (mnt) => {
      assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
      const to = join(mnt, "restored");
      const r = await runTool(["restore", "--to", to, "--config", fx.config]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /5 restored, 0 up to date, 0 not restored\n/);
      const notes = r.stderr.split("\n").filter((l) => l.includes("hard links"));
      assert.equal(notes.length, 1, r.stderr);
      assert.match(
        notes[0],
        /^NOTE: hard links could not be made in '[^']*' \(.*\): files the backup recorded as one file under several names were restored there as separate copies$/,
      );
      assert.deepEqual(readTree(to), {
        "d/one.txt": text,
        "d/two.txt": text,
        "dup.txt": text,
        "e/other.txt": "other\n",
        "f/three.txt": text,
      });
      const again = await runTool(["restore", "--to", to, "--config", fx.config]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /0 restored, 5 up to date, 0 not restored\n/);
    });
  },
});

Deno.test({
  name:
    "a restore onto exFAT, which keeps no extended attributes: the bytes restored, said once, exit 0",
  ignore: !isRoot || !DISKS[1].tools.every(has) || !has("setfattr"),
  fn: async () => {
    using fx = makeFixture({ "d/a.txt": "a\n", "d/b.txt": "b\n", "c.txt": "c\n" });
    for (const p of ["d/a.txt", "d/b.txt"]) {
      await sh(`setfattr -n user.tag -v kept '${join(fx.source, p)}'`);
    }
    await withDisk(DISKS[1], fx.dir, "16M", async (mnt) => {
      assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
      const to = join(mnt, "restored");
      const r = await runTool(["restore", "--to", to, "--config", fx.config]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /3 restored, 0 up to date, 0 not restored/);
      const notes = r.stderr.split("\n").filter((l) => l.includes("extended attributes"));
      assert.equal(notes.length, 1, r.stderr);
      assert.match(
        notes[0],
        /^NOTE: the disk of '[^']*' keeps no extended attributes \(FAT, exFAT, some network shares\): the files restored there are without those recorded \('user\.tag'\)$/,
      );
      assert.deepEqual(readTree(to), { "c.txt": "c\n", "d/a.txt": "a\n", "d/b.txt": "b\n" });
    });
  },
});

Deno.test({
  name: "a restore's look at an exFAT disk finds its coarse time step, asked as on Windows too " +
    "(where modes are not asked)",
  ignore: !isRoot || !DISKS[1].tools.every(has),
  fn: async () => {
    const dir = Deno.makeTempDirSync();
    try {
      await withDisk(DISKS[1], dir, "16M", (mnt) => {
        const { dev, ino } = Deno.statSync(mnt);
        const folder: Reached = {
          path: mnt,
          id: `${dev}:${ino}`,
          made: undefined,
          at: (n) => join(mnt, n),
          release() {},
        };
        const linux = new KeptMeta("linux").of(folder, ".probe-1.tmp");
        // exFAT keeps 10 ms, exfat-fuse passes whole seconds: coarser than exact, either way.
        assert.equal(linux.modes, false);
        assert.ok(linux.timeStepMs >= 10, String(linux.timeStepMs));
        const windows = new KeptMeta("windows").of(folder, ".probe-2.tmp");
        assert.deepEqual({ ...windows, timeStepMs: 1 }, ALL_KEPT);
        assert.equal(windows.timeStepMs, linux.timeStepMs);
        assert.deepEqual([...Deno.readDirSync(mnt)], []); // no probe left behind
        return Promise.resolve();
      });
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
