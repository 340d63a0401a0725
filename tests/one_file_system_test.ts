/**
 * `one_file_system` with a real mount: a tmpfs mounted inside the source (root on Linux
 * only; ignored where a probe when the module loads finds mounting impossible), always
 * unmounted again in `finally`. The mounted folder is kept as a folder (its metadata
 * recorded), nothing below it backed up; with the key false, it is. Files backed up before
 * the key was set keep their copies, marked excluded; the disk unmounted, the next run
 * finds an empty folder and archives them as excluded files gone are archived. A watch's
 * changes inside the mount run no pass, a walk scoped inside it or at it walks nothing
 * below it, and the staging and walk workers leave it out as the main thread does.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../src/config/config.ts";
import { backupOnce } from "../src/engine/backup.ts";
import { scanEntries } from "../src/engine/scan/scan.ts";
import { StateStore } from "../src/state/store.ts";
import { type Fixture, makeFixture, poll, writeConfig, writeTree } from "./helpers.ts";
import { canUnshare, cliWithTable } from "./fstab_namespace.ts";
import { exists } from "./reliability/util.ts";
import { backedUp, DEADLINE_MS, filler, readOrUndefined, WatchProcess } from "./watch_helpers.ts";
import { canMountTmpfs, withTmpfs } from "./tmpfs.ts";

const TMPFS = await canMountTmpfs();
if (!TMPFS) console.log("SKIP one_file_system tests: need root on Linux to mount a tmpfs");

/**
 * Runs `body` with a tmpfs (mode 0750 at its top) holding `tree` mounted at `<source>/mnt`,
 * unmounted after it whatever happens.
 */
function withDisk(
  fx: Fixture,
  tree: Record<string, string>,
  body: (mnt: string) => Promise<void> | void,
): Promise<void> {
  return withTmpfs(join(fx.source, "mnt"), "size=16m,mode=0750", (mnt) => {
    writeTree(mnt, tree);
    return body(mnt);
  });
}

/** The fixture's config with `one_file_system` as given. */
function setKey(fx: Fixture, on: boolean, extra: Record<string, unknown> = {}): void {
  writeConfig(fx.config, {
    sources: ["./source"],
    backup_root: "./backup",
    log_dir: "./logs",
    one_file_system: on,
    ...extra,
  });
}

const DISK = { "m.txt": "m\n", "deep/d.txt": "d\n", "deep/e.txt": "e\n" };

Deno.test({
  name:
    "run: with one_file_system a disk mounted inside the source is left out, its mount point's folder recorded; false backs it up",
  ignore: !TMPFS,
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n", "sub/b.txt": "b\n" }, { one_file_system: true });
    await withDisk(fx, DISK, async () => {
      const r = await fx.cli("run");
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Backup complete: 2 new,/);
      // A folder of the source's own disk is walked (statx's device is Deno's).
      assert.equal(Deno.readTextFileSync(join(fx.backup, "sub/b.txt")), "b\n");
      // A folder with no file backed up makes nothing in the backup tree; the state records
      // the mount point's folder as the walk saw it: the disk's top folder (mode 0750).
      assert.ok(!exists(join(fx.backup, "mnt")), "nothing of the disk in the backup");
      const store = StateStore.open(join(fx.backup, ".backup-tool", "state.db"), {
        readOnly: true,
      });
      try {
        assert.equal((store.folderMeta("source/mnt")?.mode ?? 0) & 0o7777, 0o750);
        assert.equal(store.folderMeta("source/mnt/deep"), undefined);
      } finally {
        store.close();
      }
      setKey(fx, false);
      const off = await fx.cli("run");
      assert.equal(off.code, 0, off.stderr);
      assert.equal(Deno.readTextFileSync(join(fx.backup, "mnt/deep/d.txt")), "d\n");
      assert.equal(Deno.readTextFileSync(join(fx.backup, "mnt/m.txt")), "m\n");
    });
  },
});

Deno.test({
  name:
    "run: files backed up before one_file_system was set keep their copies, marked excluded, no guard; the disk unmounted, they are archived as excluded files gone; mounted again, left out",
  ignore: !TMPFS,
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n" }, { one_file_system: false });
    await withDisk(fx, DISK, async () => {
      assert.equal((await fx.cli("run")).code, 0);
      // Three of four files on the disk: more than the guard's 50% were they taken for deleted.
      setKey(fx, true);
      const r = await fx.cli("run");
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.doesNotMatch(r.stdout + r.stderr, /DELETE GUARD|would be archived/);
      assert.ok(r.stdout.includes("3 file(s) newly excluded"), r.stdout);
      assert.ok(!exists(join(fx.backup, "_deleted")), "nothing archived as deleted");
      assert.equal(Deno.readTextFileSync(join(fx.backup, "mnt/deep/d.txt")), "d\n");
      const found = await fx.cli("find", "d.txt");
      assert.match(found.stdout, /^source\/mnt\/deep\/d\.txt .* excluded at \S+Z$/m);
      const history = await fx.cli("history", "mnt/m.txt");
      assert.match(
        history.stderr,
        /^WARNING: 'source\/mnt\/m\.txt' is excluded \(the config leaves it out: an exclude pattern, a folder's tag, one_file_system or exclude_larger_than; taken out at \S+Z\)/m,
      );
      // purge looks at the disk: left out now, so it may go.
      const purge = await fx.cli("purge", "mnt/m.txt");
      assert.equal(purge.code, 0, purge.stderr);
      // Changed on the disk meanwhile: not followed.
      Deno.writeTextFileSync(join(fx.source, "mnt/m.txt"), "m 2\n");
      assert.equal((await fx.cli("run")).code, 0);
      assert.equal(Deno.readTextFileSync(join(fx.backup, "mnt/m.txt")), "m\n");
    });
    // Unmounted (not a disk /etc/fstab mounts): an empty folder of the source's own disk,
    // where the excluded files are gone; archived as an excluded file gone is, not counted
    // by the guard, their copies kept in _deleted/.
    const gone = await fx.cli("run");
    assert.equal(gone.code, 0, gone.stdout + gone.stderr);
    assert.doesNotMatch(gone.stdout + gone.stderr, /DELETE GUARD/);
    assert.equal(Deno.readTextFileSync(join(fx.backup, "_deleted/mnt/deep/d.txt")), "d\n");
    assert.ok(!exists(join(fx.backup, "mnt/deep/d.txt")));
    // Mounted again: left out, nothing backed up or archived.
    await withDisk(fx, DISK, async () => {
      const again = await fx.cli("run");
      assert.equal(again.code, 0, again.stderr);
      assert.match(
        again.stdout,
        /Backup complete: 0 new, 0 updated, 0 duplicate, 1 unchanged, 0 deleted/,
      );
      assert.ok(!exists(join(fx.backup, "mnt")));
    });
  },
});

Deno.test({
  name:
    "scan: with one_file_system a walk scoped inside a mounted disk, or at its mount point, walks nothing below it",
  ignore: !TMPFS,
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n" });
    await withDisk(fx, DISK, (mnt) => {
      const walk = (scoped: string[], oneFileSystem = true) => {
        const leftOut: string[] = [];
        const folders: string[] = [];
        const paths = [
          ...scanEntries([{ name: "s", path: fx.source }], {
            exclude: [],
            skipDirs: [],
            oneFileSystem,
            scope: new Map([["s", scoped]]),
            onLeftOut: (p) => leftOut.push(p),
            onFolder: (p) => folders.push(p),
          }, []),
        ].map((e) => e.path);
        return { paths, leftOut, folders };
      };
      const inside = walk([join(mnt, "deep"), join(mnt, "m.txt"), join(fx.source, "a.txt")]);
      assert.deepEqual(inside.paths, ["s/a.txt"]);
      assert.deepEqual([...new Set(inside.leftOut)], ["s/mnt"]);
      const at = walk([mnt]);
      assert.deepEqual(at.paths, []);
      assert.deepEqual(at.leftOut, ["s/mnt"]);
      assert.deepEqual(at.folders, ["s/mnt"], "the mount point's folder is reported");
      assert.deepEqual(walk([join(mnt, "deep")], false).paths, [
        "s/mnt/deep/d.txt",
        "s/mnt/deep/e.txt",
      ]);
    });
  },
});

Deno.test({
  name:
    "staging and walk workers: a disk mounted inside the source is left out, its files backed up before marked excluded",
  ignore: !TMPFS,
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n", "z.txt": "z\n" });
    await withDisk(fx, DISK, async () => {
      setKey(fx, true);
      const first = await backupOnce(loadConfig(fx.config), { stagingAfter: 1 });
      assert.equal(first.exitCode, 0, JSON.stringify(first.errors));
      assert.ok(exists(join(fx.backup, "z.txt")) && !exists(join(fx.backup, "mnt")));
      for (const walkerSplit of [0, 1]) {
        setKey(fx, false);
        const all = await backupOnce(loadConfig(fx.config), { walkerSplit });
        assert.equal(all.exitCode, 0, JSON.stringify(all.errors));
        setKey(fx, true);
        const r = await backupOnce(loadConfig(fx.config), { walkerSplit });
        assert.equal(r.exitCode, 0, JSON.stringify(r.errors));
        assert.equal(r.counts.delete, 0, `split ${walkerSplit}`);
        assert.equal(r.counts.exclude, 3, `split ${walkerSplit}`);
        assert.equal(r.deleteGuard, undefined);
      }
    });
  },
});

Deno.test({
  name: "watch: with one_file_system changes on a disk mounted inside a watched source run no pass",
  ignore: !TMPFS,
  fn: async () => {
    using fx = makeFixture(filler(), { watch: { debounce_ms: 200, rescan_interval: 0 } });
    setKey(fx, true, { watch: { debounce_ms: 200, rescan_interval: 0 } });
    await withDisk(fx, DISK, async (mnt) => {
      await using w = new WatchProcess(fx, ["--json"]);
      await w.ready();
      const before = w.stdout.length;
      writeTree(mnt, { "new.txt": "new\n", "deep/d.txt": "d 2\n" });
      writeTree(fx.source, { "keep/after.txt": "after\n" });
      await backedUp(fx.backup, "keep/after.txt", "after\n");
      assert.equal(readOrUndefined(join(fx.backup, "mnt/new.txt")), undefined);
      assert.equal(readOrUndefined(join(fx.backup, "mnt/deep/d.txt")), undefined);
      // No pass ran for them: one batch, the marker's.
      const batches = () =>
        w.stdout.slice(before).trim().split("\n").filter((l) => l.startsWith("{"))
          .map((l) => JSON.parse(l)).filter((b) => !b.full);
      await poll("the marker's batch said", () => batches().length > 0, DEADLINE_MS);
      assert.deepEqual(batches().map((b) => b.paths), [1], w.stdout.slice(before));
      const exit = await w.stop();
      assert.equal(exit.code, 0, exit.stderr);
    });
  },
});

Deno.test({
  name:
    "run: a disk /etc/fstab mounts inside a source, left out by one_file_system, then not mounted: its excluded files are kept, the run says so (exit 1)",
  ignore: !TMPFS || !canUnshare,
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n" }, { one_file_system: false });
    const mnt = join(Deno.realPathSync(fx.source), "mnt");
    const fstab = join(fx.dir, "fstab");
    Deno.writeTextFileSync(fstab, `/dev/sdz1 ${mnt} ext4 nofail 0 2\n`);
    await withDisk(fx, DISK, async () => {
      assert.equal((await fx.cli("run")).code, 0);
      setKey(fx, true);
      assert.equal((await fx.cli("run")).code, 0);
    });
    const r = await cliWithTable(fstab, ["run", "-q", "--config", fx.config]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /^ERROR: source\/mnt: '\/etc\/fstab' mounts a disk on '[^']+', where nothing is mounted now: its 3 tracked file\(s\) are kept as they are/m,
    );
    assert.ok(!exists(join(fx.backup, "_deleted")), "nothing archived as deleted");
    assert.equal(Deno.readTextFileSync(join(fx.backup, "mnt/deep/d.txt")), "d\n");
  },
});
