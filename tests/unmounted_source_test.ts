/**
 * A disk /etc/fstab mounts inside a source, not mounted at the time of a run (a data disk
 * with `nofail` that did not come up at boot): its files must not be taken for deleted.
 * The CLI runs in a mount namespace of its own (`unshare -m`, root only) where a table
 * written by the test is bind-mounted over /etc/fstab, so the machine's own is neither read
 * nor changed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, readTree, writeTree } from "./helpers.ts";
import { canUnshare, cliWithTable } from "./fstab_namespace.ts";

const canMount = canUnshare;
if (!canMount) console.log("SKIP unmounted source disk test: needs root and unshare on Linux");

Deno.test({
  name:
    "a disk fstab mounts inside a source, not mounted: its files are kept, not archived as deleted, and the run says so (exit 1)",
  ignore: !canMount,
  fn: async () => {
    // Six files on the system disk, four on the data disk: 40%, under the deletion guard.
    using fx = makeFixture({ "f1": "1", "f2": "2", "f3": "3", "f4": "4", "f5": "5", "f6": "6" });
    const data = join(Deno.realPathSync(fx.source), "data");
    writeTree(data, { "g1": "a", "g2": "b", "g3": "c", "g4": "d" });
    const fstab = join(fx.dir, "fstab");
    Deno.writeTextFileSync(
      fstab,
      `UUID=1 / ext4 defaults 0 1\n/dev/sdz1 ${data} ext4 nofail 0 2\n`,
    );
    const run = (...args: string[]) => cliWithTable(fstab, [...args, "--config", fx.config]);
    // Mounted at the first run (a folder of files stands for it: nothing is mounted on it,
    // so the table is not given until the disk "fails").
    const first = await fx.cli("run", "-q");
    assert.equal(first.code, 0, first.stderr);

    // The disk did not mount: its mount point is an empty folder.
    Deno.removeSync(data, { recursive: true });
    Deno.mkdirSync(data);
    const r = await run("run", "-q");
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^ERROR: source/data: '/etc/fstab' mounts a disk on '${data}', where nothing is mounted now: its 4 tracked file\\(s\\) are kept as they are, not archived as deleted`,
        "m",
      ),
    );
    const stored = readTree(fx.backup);
    assert.equal(stored["data/g1"], "a");
    assert.equal(Object.keys(stored).some((p) => p.startsWith("_deleted/")), false);

    // Back: nothing to copy again, no second copy of the disk in the backup.
    Deno.removeSync(data);
    writeTree(data, { "g1": "a", "g2": "b", "g3": "c", "g4": "d" });
    const back = await run("run");
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stdout, /0 new, 0 updated/);
  },
});

Deno.test({
  name:
    "a disk fstab mounts inside a source, not mounted: the folder below it is not recorded as the disk's, whose files restore into the disk's own folder mode",
  ignore: !canMount,
  fn: async () => {
    using fx = makeFixture({ "f1": "1", "f2": "2", "f3": "3", "f4": "4", "f5": "5", "f6": "6" });
    const data = join(Deno.realPathSync(fx.source), "data");
    writeTree(data, { "g1": "a", "g2": "b" });
    Deno.chmodSync(data, 0o700); // the disk's own top folder: private
    const fstab = join(fx.dir, "fstab");
    Deno.writeTextFileSync(fstab, `/dev/sdz1 ${data} ext4 nofail 0 2\n`);
    assert.equal((await fx.cli("run", "-q")).code, 0);

    // The disk did not mount: the folder below its mount point is open to all.
    Deno.removeSync(data, { recursive: true });
    Deno.mkdirSync(data);
    Deno.chmodSync(data, 0o755);
    const held = await cliWithTable(fstab, ["run", "-q", "--config", fx.config]);
    assert.equal(held.code, 1, held.stderr);

    // The disk gone for good: its files restored from the backup get its folder's mode.
    const out = join(fx.dir, "out");
    const r = await fx.cli("restore", "data", "--to", out);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(Deno.readTextFileSync(join(out, "data", "g1")), "a");
    assert.equal(Deno.statSync(join(out, "data")).mode! & 0o777, 0o700);
  },
});

Deno.test({
  name:
    "a disk fstab mounts inside a source, holding only empty folders, not mounted: its folders stand, and a restore makes them",
  ignore: !canMount,
  fn: async () => {
    using fx = makeFixture({ "f1": "1" });
    const data = join(Deno.realPathSync(fx.source), "data");
    Deno.mkdirSync(join(data, "inbox", "new"), { recursive: true });
    const fstab = join(fx.dir, "fstab");
    Deno.writeTextFileSync(fstab, `/dev/sdz1 ${data} ext4 nofail 0 2\n`);
    assert.equal((await fx.cli("run", "-q")).code, 0);

    // The disk did not mount: no tracked file below it vanished, yet its folders are kept.
    Deno.removeSync(data, { recursive: true });
    Deno.mkdirSync(data);
    const r = await cliWithTable(fstab, ["run", "-q", "--config", fx.config]);
    assert.equal(r.code, 0, r.stderr);

    const out = join(fx.dir, "out");
    const restored = await fx.cli("restore", "--to", out);
    assert.equal(restored.code, 0, restored.stderr);
    assert.ok(Deno.statSync(join(out, "data", "inbox", "new")).isDirectory);

    // Gone for good (--force, as for its files): its folders end, as of that run only.
    const held = JSON.parse((await fx.cli("history", "--json")).stdout).runs.at(-1).endedAt;
    const forced = await cliWithTable(fstab, ["run", "-q", "--force", "--config", fx.config]);
    assert.equal(forced.code, 0, forced.stderr);
    const after = join(fx.dir, "after");
    assert.equal((await fx.cli("restore", "--to", after)).code, 0);
    assert.throws(() => Deno.statSync(join(after, "data", "inbox")), Deno.errors.NotFound);
    const before = join(fx.dir, "before");
    assert.equal((await fx.cli("restore", "--at", held, "--to", before)).code, 0);
    assert.ok(Deno.statSync(join(before, "data", "inbox", "new")).isDirectory);
  },
});
