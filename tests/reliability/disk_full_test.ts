/**
 * Disk full. The backup root is a small tmpfs (root only; ignored where a probe when the
 * module loads finds mounting impossible). A run whose files do not fit must report each failure (exit 1)
 * or abort cleanly, keep every earlier copy, leave no partial file at a final name, and
 * agree with its state; once space is freed, the next run completes (exit 0) and
 * converges. No fault hook is needed: the filesystem really runs out of space.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, makeFixture, writeTree } from "../helpers.ts";
import { StateStore } from "../../src/state/store.ts";
import { backupAction } from "../../src/state/test_util.ts";
import type { FolderMeta } from "../../src/core/types.ts";
import {
  assertConverged,
  checkBackup,
  crashStateProblems,
  isRoot,
  latestProblems,
  rng,
  runTool,
  sh,
  snapshot,
  suiteSeed,
} from "./util.ts";
import { canMountTmpfs, unmount, withTmpfs } from "../tmpfs.ts";

/**
 * Whether an ext4 image on a loop device can be mounted here (root, and the tools), as
 * `canMountTmpfs` tells of a tmpfs: tried once when the module loads, so that a test that
 * cannot run here is counted as ignored, and one that can but fails to mount fails.
 */
async function canMountExt4(): Promise<boolean> {
  if (!isRoot()) return false;
  const dir = Deno.makeTempDirSync({ prefix: "bt-probe-ext4-" });
  try {
    const mnt = join(dir, "mnt");
    const img = join(dir, "disk.img");
    const made = await sh(
      `mkdir '${mnt}' && truncate -s 8M '${img}' && mkfs.ext4 -q '${img}' && ` +
        `mount -o loop '${img}' '${mnt}' && echo mounted`,
    ).catch((e) => String(e));
    if (!made.includes("mounted")) return false;
    await unmount(mnt);
    return true;
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}
const TMPFS = await canMountTmpfs();
const EXT4_IMAGE = await canMountExt4();

/** Runs `body` with the fixture's backup root on a tmpfs of `size`, unmounted after. */
function withSmallDisk(fx: Fixture, size: string, body: () => Promise<void>): Promise<void> {
  return withTmpfs(fx.backup, `size=${size}`, body);
}

/** Source files named in the run's ERROR lines. */
function failedPaths(stderr: string): Set<string> {
  const out = new Set<string>();
  for (const m of stderr.matchAll(/^ERROR: source\/(.+?): /gm)) out.add(m[1]);
  return out;
}

/** After a run that ran out of space: consistent, nothing lost, failures reported. */
function checkAfterFull(
  fx: Fixture,
  r: { code: number; stdout: string; stderr: string },
  captured: Set<string>,
): void {
  assert.equal(r.code, 1, `a run out of space must exit 1\n${r.stdout}\n${r.stderr}`);
  const aborted = /^Backup failed: /m.test(r.stderr);
  console.log(
    `  out of space: ${
      aborted ? r.stderr.match(/^Backup failed: .*$/m)![0] : `${failedPaths(r.stderr).size} failed`
    }`,
  );
  const check = checkBackup(fx.backup);
  // A clean abort may leave its journal and staged files for the next run to finish;
  // a file at a final name must still be a recorded (or journaled) copy either way.
  const problems = check.problems.filter((p) =>
    !(aborted && (p.includes("intent(s) left") || p.startsWith("temporary files left")))
  );
  if (!aborted) {
    assert.deepEqual(problems, [], "the backup disagrees with its state after ENOSPC");
  } else {
    // Every file at a final name is a committed copy or a journaled step, never partial.
    assert.deepEqual(crashStateProblems(fx.backup), [], "a stray file after the abort");
    // Named as what it is, with the remedy; the log says so too.
    assert.match(r.stderr, /^Backup failed: the backup disk is full .*free space/m);
    assert.ok(fx.lastLog().some((l) => l.startsWith("Run failed: ")), fx.lastLog().join("\n"));
    // Staged copies of a batch never journaled are gone: they held the space.
    if (!check.problems.some((p) => p.includes("intent(s) left"))) {
      assert.ok(!problems.some((p) => p.startsWith("temporary files left")));
      assert.ok(
        !check.problems.some((p) => p.startsWith("temporary files left")),
        "staged copies left",
      );
    }
  }
  for (const h of captured) assert.ok(check.contents.has(h), `an earlier copy was lost: ${h}`);
  if (!aborted) {
    assert.match(r.stderr, /No space left on device|disk is full/);
    // Every file not reported as failed is backed up as it is now.
    const failed = failedPaths(r.stderr);
    const stale = latestProblems(fx.source, fx.backup, check)
      .filter((p) => ![...failed].some((f) => p.includes(f)));
    assert.deepEqual(stale, [], "files not reported as failed must be backed up");
  }
}

Deno.test({
  name:
    "disk full: a file that does not fit is reported, the rest is backed up, space freed → converges",
  ignore: !TMPFS,
  fn: async () => {
    const seed = suiteSeed(0xd15c);
    const r = rng(seed);
    const tree: Record<string, Uint8Array> = {};
    for (let i = 0; i < 20; i++) {
      tree[`a${i}.bin`] = r.bytes(20_000);
      tree[`z${i}.bin`] = r.bytes(20_000);
    }
    using fx = makeFixture(tree);
    await withSmallDisk(fx, "2m", async () => {
      const first = await runTool(["run", "--config", fx.config]);
      assert.equal(first.code, 0, first.stderr);
      const captured = new Set([...snapshot(fx.source).values()].map((s) => s.hash));
      for (const name of Object.keys(tree)) {
        Deno.writeFileSync(join(fx.source, name), r.bytes(20_000));
      }
      Deno.writeFileSync(join(fx.source, "m_big.bin"), r.bytes(5 << 20));
      const full = await runTool(["run", "--config", fx.config]);
      checkAfterFull(fx, full, captured);
      assert.ok(failedPaths(full.stderr).has("m_big.bin"), full.stderr);
      // The files after the big one in sort order were still backed up: one file that does
      // not fit does not take the rest of the run down with it.
      assert.ok(!failedPaths(full.stderr).has("z19.bin"), full.stderr);

      await sh(`mount -o remount,size=64m tmpfs '${fx.backup}'`);
      const after = await runTool(["run", "--config", fx.config]);
      assert.equal(after.code, 0, `after growing the disk: ${after.stderr}`);
      assertConverged(fx, captured, "after growing the disk");
    });
  },
});

Deno.test({
  name:
    "disk full: the disk fills up mid-batch (state database included) → clean stop; more space → converges",
  ignore: !TMPFS,
  fn: async () => {
    const seed = suiteSeed(0xd15d);
    const r = rng(seed);
    const tree: Record<string, Uint8Array> = {};
    for (let i = 0; i < 10; i++) tree[`keep/${i}.bin`] = r.bytes(30_000);
    using fx = makeFixture(tree);
    await withSmallDisk(fx, "1m", async () => {
      const first = await runTool(["run", "--config", fx.config]);
      assert.equal(first.code, 0, first.stderr);
      const captured = new Set([...snapshot(fx.source).values()].map((s) => s.hash));
      // Modified files (archive + place) and many new ones: far more than the disk holds.
      for (let i = 0; i < 10; i++) {
        Deno.writeFileSync(join(fx.source, "keep", `${i}.bin`), r.bytes(30_000));
      }
      for (let i = 0; i < 60; i++) {
        Deno.mkdirSync(join(fx.source, "new"), { recursive: true });
        Deno.writeFileSync(join(fx.source, "new", `${i}.bin`), r.bytes(25_000));
      }
      for (let attempt = 0; attempt < 2; attempt++) {
        const full = await runTool(["run", "--config", fx.config]);
        checkAfterFull(fx, full, captured);
      }
      // (Deleting source files frees nothing here: their copies move to _deleted/.)
      await sh(`mount -o remount,size=64m tmpfs '${fx.backup}'`);
      const after = await runTool(["run", "--config", fx.config]);
      assert.equal(after.code, 0, `after freeing space: ${after.stdout}\n${after.stderr}`);
      assertConverged(fx, captured, "after freeing space");
    });
  },
});

Deno.test({
  name: "disk full: the room kept for the state records what fitted before the run stops",
  ignore: !TMPFS,
  fn: async () => {
    const seed = suiteSeed(0xd15e);
    const r = rng(seed);
    using fx = makeFixture({ "first.txt": "first\n" });
    await withSmallDisk(fx, "24m", async () => {
      const first = await runTool(["run", "--config", fx.config]);
      assert.equal(first.code, 0, first.stderr);
      assert.equal(Deno.statSync(join(fx.backup, ".backup-tool", "reserve")).size, 8 << 20);
      // More new files than the disk holds besides the reserve: copies fill the disk, and
      // the state's journal entry needs the reserve's room.
      for (let i = 0; i < 15; i++) {
        Deno.writeFileSync(
          join(fx.source, `big${String(i).padStart(2, "0")}.bin`),
          r.bytes(1 << 20),
        );
      }
      // Then small files up to the last block: a file that does not fit frees next to nothing.
      for (let i = 0; i < 400; i++) {
        Deno.writeFileSync(
          join(fx.source, `small${String(i).padStart(3, "0")}.bin`),
          r.bytes(4096),
        );
      }
      const full = await runTool(["run", "--config", fx.config]);
      assert.equal(full.code, 1, full.stdout + full.stderr);
      assert.match(
        full.stderr,
        /^Backup failed: the backup disk is full .*room kept for the state/m,
      );
      const check = checkBackup(fx.backup);
      assert.deepEqual(check.problems, [], "the backup agrees with its state");
      const stored = check.state.files.filter((f) => f.path.startsWith("source/big")).length;
      assert.ok(stored >= 10, `what fitted was recorded (${stored} of 15)`);
      // Room again: the rest is backed up and the reserve is made again.
      await sh(`mount -o remount,size=64m tmpfs '${fx.backup}'`);
      const after = await runTool(["run", "--config", fx.config]);
      assert.equal(after.code, 0, after.stdout + after.stderr);
      assertConverged(fx, [], "after freeing space");
      assert.equal(Deno.statSync(join(fx.backup, ".backup-tool", "reserve")).size, 8 << 20);
    });
  },
});

Deno.test({
  name:
    "disk full on log_dir: a run that cannot write its log lines commits nothing unlogged; the next run logs every deletion",
  ignore: !TMPFS,
  fn: async () => {
    const tree = Object.fromEntries(
      Array.from({ length: 200 }, (_, i) => [`f${String(i).padStart(3, "0")}.txt`, `v1 ${i}\n`]),
    );
    using fx = makeFixture(tree, { retention: { max_versions_per_file: 1 } });
    const filler = join(fx.logs, "filler");
    await withTmpfs(fx.logs, "size=256k", async () => {
      assert.equal((await fx.cli("run")).code, 0);
      const names = Object.keys(tree);
      const edit = (v: number) => {
        for (const n of names.slice(0, 60)) {
          Deno.writeTextFileSync(join(fx.source, n), `v${v} ${n}\n`);
        }
      };
      edit(2);
      assert.equal((await fx.cli("run")).code, 0);
      edit(3); // retention prunes each v1
      for (const n of names.slice(60, 150)) Deno.removeSync(join(fx.source, n));
      // One page left on the log's disk: the run's lines (about 20 KB) do not fit.
      await sh(
        `head -c $(( ($(df -k --output=avail '${fx.logs}' | tail -1) - 4) * 1024 )) /dev/zero > '${filler}'`,
      );
      const full = await fx.cli("run");
      assert.equal(full.code, 1, full.stderr);
      assert.match(full.stderr, /Cannot write the log .*its disk is full/);
      Deno.removeSync(filler);
      assert.equal((await fx.cli("run")).code, 0);
      const lines = fx.logLines();
      for (const n of names.slice(60, 150)) {
        assert.ok(lines.some((l) => l.startsWith(`ARCHIVE DELETE: backup/${n} `)), n);
      }
      const pruned = lines.filter((l) => l.startsWith("RETENTION delete: versions/"));
      assert.equal(new Set(pruned).size, 60, pruned.join("\n"));
    });
  },
});

/**
 * Runs `body` with the fixture's backup root on a loop-mounted ext4 image of `size`, made
 * with `mkfs` options; skips (saying why) where that cannot be done.
 */
async function withExt4(
  fx: Fixture,
  size: string,
  mkfs: string,
  body: () => Promise<void>,
): Promise<void> {
  const img = join(fx.dir, "disk.img");
  Deno.mkdirSync(fx.backup);
  const made = await sh(
    `truncate -s ${size} '${img}' && mkfs.ext4 -q ${mkfs} '${img}' && ` +
      `mount -o loop '${img}' '${fx.backup}' && echo mounted`,
  ).catch((e) => String(e));
  if (!made.includes("mounted")) assert.fail(`Cannot make the ext4 disk: ${made}`);
  try {
    await body();
  } finally {
    await unmount(fx.backup);
  }
}

Deno.test({
  name: "disk full on a disk of 1 KiB blocks: what does not fit is said, never a SIGBUS",
  ignore: !EXT4_IMAGE,
  fn: async () => {
    using fx = makeFixture({});
    await withExt4(fx, "32M", "-b 1024", async () => {
      const files = (v: number) =>
        Object.fromEntries(
          Array.from({ length: 300 }, (_, i) => [`f${i}`, `${v} ${i} `.repeat(800)]),
        );
      writeTree(fx.source, files(1));
      assert.equal((await fx.cli("run")).code, 0);
      for (let round = 2; round < 14; round++) {
        writeTree(fx.source, Object.fromEntries(Object.entries(files(round)).slice(0, 30)));
        await sh(`dd if=/dev/zero of='${fx.backup}/filler' bs=64k status=none || true`);
        const full = await fx.cli("run");
        assert.equal(full.code, 1, `round ${round}: exit ${full.code}: ${full.stderr}`);
        // Each file that does not fit named, or the run stopped as a full disk: said either way.
        // The lock's record takes a block of its own (a released lock file is emptied), which
        // the full disk gives or not as its journal's last commit freed blocks or not.
        assert.match(
          full.stderr,
          /^(ERROR: .*No space left on device|Backup failed: (Cannot lock backup root: cannot write '.*': )?the backup disk is full \()/m,
        );
        Deno.removeSync(join(fx.backup, "filler"));
        assert.equal((await fx.cli("run")).code, 0, `round ${round}, with room again`);
      }
      assert.equal((await fx.cli("verify")).code, 0);
    });
  },
});

Deno.test({
  name:
    "out of inodes on a disk of 1 KiB blocks: a run stores what fits, and no run fails as 'unable to open database file'",
  ignore: !EXT4_IMAGE,
  fn: async () => {
    using fx = makeFixture({});
    await withExt4(fx, "64M", "-N 2048 -b 1024", async () => {
      const files = (v: number) =>
        Object.fromEntries(Array.from({ length: 1500 }, (_, i) => [`s${i}`, `v${v} ${i}\n`]));
      writeTree(fx.source, files(0));
      assert.equal((await fx.cli("run")).code, 0);
      writeTree(fx.source, files(1)); // each archived version needs a folder: inodes run out
      for (const round of [1, 2]) {
        const r = await fx.cli("run");
        assert.equal(r.code, 1, `round ${round}: ${r.stderr.slice(-500)}`);
        assert.doesNotMatch(r.stderr, /unable to open database file/);
        assert.match(r.stderr, /^ERROR: source\/s\d+: No space left on device/m);
        // The first stores what fits; the second finds no inode left, and says so per file.
        if (round === 1) assert.ok(fx.lastLog().some((l) => l.startsWith("UPDATED: ")));
      }
      assert.equal((await fx.cli("verify")).code, 0);
    });
  },
});

Deno.test({
  name: "log_dir full from the start: the run fails naming the log, and leaves no empty log behind",
  ignore: !TMPFS,
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n" });
    await withTmpfs(fx.logs, "size=64k", async () => {
      await sh(`head -c 1M /dev/zero > '${join(fx.logs, "filler")}' || true`);
      for (const round of [1, 2]) {
        const r = await fx.cli("run");
        assert.equal(r.code, 1, `round ${round}: ${r.stderr}`);
        assert.match(r.stderr, /Cannot write the log .*its disk is full/);
      }
      const logs = [...Deno.readDirSync(fx.logs)].map((e) => e.name).filter((n) => n !== "filler");
      assert.deepEqual(logs, [], "empty logs were left, which rotation never removes");
    });
  },
});

Deno.test({
  name:
    "disk full under verify --repair: a missing copy its source still holds is said not repaired for the full disk, not as content gone",
  ignore: !TMPFS,
  fn: async () => {
    using fx = makeFixture({ "a.bin": new Uint8Array(600_000).fill(3), "b.txt": "b" });
    await withSmallDisk(fx, "2m", async () => {
      assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
      Deno.removeSync(join(fx.backup, "a.bin"));
      // The disk filled but for 256 KiB: room for the repair's session, not for the copy.
      const avail = Number(await sh(`df --output=avail -B1 '${fx.backup}' | tail -1`));
      Deno.writeFileSync(join(fx.backup, "fill"), new Uint8Array(avail - (256 << 10)));
      const full = await runTool(["verify", "--repair", "--config", fx.config]);
      assert.equal(full.code, 1, full.stderr);
      assert.match(full.stdout + full.stderr, /NOT REPAIRED: a\.bin .*the backup disk is full/);
      assert.doesNotMatch(full.stdout + full.stderr, /nor any other copy in the backup holds/);
      Deno.removeSync(join(fx.backup, "fill"));
      const repaired = await runTool(["verify", "--repair", "--config", fx.config]);
      assert.equal(repaired.code, 0, repaired.stdout + repaired.stderr);
      assert.match(repaired.stdout, /REPAIRED: a\.bin/);
    });
  },
});

Deno.test({
  name:
    "disk full to the last block: run and verify --repair say the disk is full, with the remedy, changing nothing",
  ignore: !TMPFS,
  fn: async () => {
    using fx = makeFixture({ "a.bin": new Uint8Array(300_000).fill(5) });
    await withSmallDisk(fx, "2m", async () => {
      assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
      writeTree(fx.source, { "b.txt": "b\n" });
      const avail = Number(await sh(`df --output=avail -B1 '${fx.backup}' | tail -1`));
      Deno.writeFileSync(join(fx.backup, "fill"), new Uint8Array(avail));
      for (const args of [["run"], ["verify", "--repair"]]) {
        const r = await runTool([...args, "--config", fx.config]);
        assert.equal(r.code, 1, `${args}: ${r.stderr}`);
        // Before, a bare "No space left on device (os error 28)".
        assert.match(
          r.stderr,
          /Cannot lock backup root: .*the backup disk is full .*free space on/,
        );
      }
      Deno.removeSync(join(fx.backup, "fill"));
      const after = await runTool(["run", "--config", fx.config]);
      assert.equal(after.code, 0, after.stderr);
      assert.equal(Deno.readTextFileSync(join(fx.backup, "b.txt")), "b\n");
    });
  },
});

Deno.test({
  name:
    "disk full: verify --forget-missing forgets no old copy it failed to make again for want of room",
  ignore: !TMPFS,
  fn: async () => {
    const r = rng(suiteSeed(0xd160));
    const old = r.bytes(100_000);
    using fx = makeFixture({ "a.bin": old, "b.txt": "b\n" });
    await withSmallDisk(fx, "2m", async () => {
      assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
      Deno.writeFileSync(join(fx.source, "a.bin"), r.bytes(100_000));
      assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
      // The old version removed by hand, and its content back in the source since: a repair
      // with room makes it again.
      Deno.removeSync(join(fx.backup, "versions/a.bin/v1.bak"));
      Deno.writeFileSync(join(fx.source, "a.bin"), old);
      // Room left for the lock and the state, not for the copy.
      const free = Number((await sh(`df -k --output=avail '${fx.backup}' | tail -1`)).trim());
      const filler = join(fx.backup, ".backup-tool", "filler");
      Deno.writeFileSync(filler, new Uint8Array((free - 60) * 1024));
      const full = await runTool(["verify", "--forget-missing", "--config", fx.config]);
      assert.equal(full.code, 1, full.stdout + full.stderr);
      assert.match(full.stderr, /NOT REPAIRED: versions\/a\.bin\/v1\.bak .*disk is full/);
      assert.match(full.stdout, /Repair: 0 repaired, 1 not repaired, 0 forgotten/);
      assert.ok(!fx.lastLog().some((l) => l.startsWith("FORGOTTEN: ")), fx.lastLog().join("\n"));

      Deno.removeSync(filler);
      const repaired = await runTool(["verify", "--repair", "--config", fx.config]);
      assert.equal(repaired.code, 0, repaired.stdout + repaired.stderr);
      assert.match(repaired.stdout, /REPAIRED: versions\/a\.bin\/v1\.bak \(source\/a\.bin v1\)/);
    });
  },
});

Deno.test({
  name:
    "disk full: the room kept commits the batches at hand even where the folders a pass saw ride with them",
  ignore: !TMPFS,
  fn: async () => {
    using fx = makeFixture({});
    await withSmallDisk(fx, "1m", async () => {
      const store = StateStore.open(join(fx.backup, "state.db"));
      try {
        const { runId } = store.beginRun("run", [{ name: "source", path: fx.source }], 1);
        const actions = [backupAction("a.txt", "a".repeat(64))];
        const intent = store.writeIntent(runId, actions, 1);
        // The disk filled up but for the room kept (a reserve of 64 KiB, as reserve.ts keeps
        // one): the batch's results fit in it, the 20,000 folders of a large walk do not.
        const free = Number((await sh(`df -k --output=avail '${fx.backup}' | tail -1`)).trim());
        const reserve = join(fx.backup, "reserve");
        Deno.writeFileSync(reserve, new Uint8Array(64 * 1024));
        try {
          Deno.writeFileSync(join(fx.backup, "filler"), new Uint8Array((free - 64) * 1024));
        } catch { /* full: as meant */ }
        store.useReserve(() => (Deno.removeSync(reserve), true));
        const folders = new Map<string, FolderMeta>();
        for (let i = 0; i < 20_000; i++) {
          folders.set(`source/some/deeper/folder-${i}`, { mode: 0o755, mtimeMs: i });
        }
        store.commitBatch(actions, { runId, time: 1, trustBefore: 0 }, [intent], { seen: folders });
        assert.ok(store.reserveUsed);
        assert.deepEqual(store.pendingIntents(), [], "the batch was committed");
      } finally {
        store.close();
      }
    });
  },
});
