/**
 * A restore onto an exFAT disk (a USB stick, mounted through exfat-fuse as fat_disks.ts
 * does) of names Linux allows and exFAT refuses (`a:b.txt`, `q?.txt`, a backslash, a
 * folder `d:x`): each is not restored, said as the name the disk refuses with a restore's
 * remedy, and the other files are. Runs only where those tools exist and mounting is
 * allowed (root); elsewhere it is skipped. And on a disk that takes every name, a folder
 * removed while the restore ran is no name's fault: held at a pause point
 * (BACKUP_TOOL_PAUSE), the restore's folder is removed, and the folder made in it next,
 * named so that FAT would refuse it, is said as the system says, not as a refused name.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, readTree } from "../helpers.ts";
import { listDir, pausedRun, runTool } from "./util.ts";
import { DISKS, has, isRoot, withDisk } from "./fat_disks.ts";

Deno.test({
  name:
    "a restore onto exFAT of names it refuses (a:b.txt, a folder d:x): each said as the name the disk does not allow, with a restore's remedy",
  ignore: !isRoot || !DISKS[1].tools.every(has),
  fn: async () => {
    using fx = makeFixture({
      "ok.txt": "ok\n",
      "a:b.txt": "colon\n",
      "q?.txt": "question\n",
      "back\\slash.txt": "backslash\n",
      "d:x/in.txt": "in\n",
      "d/fine.txt": "fine\n",
    });
    assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
    await withDisk(DISKS[1], fx.dir, "16M", async (mnt) => {
      const to = join(mnt, "restored");
      const r = await runTool(["restore", "--to", to, "--config", fx.config]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /2 restored, 0 up to date, 4 not restored/);
      // Until 2026-12-05 each was said as the system's "No such file or directory (os
      // error 2)", of a rename from a temporary file or of the folder, which the user was
      // left to make sense of.
      const failed = r.stderr.split("\n").filter((l) => l.startsWith("NOT RESTORED:")).sort();
      const refused = (name: string) =>
        `the disk does not allow the name '${name}' (FAT, exFAT and NTFS refuse : * ? " < > | ` +
        "\\\\ and a trailing dot or space, and Windows the device names CON, PRN, AUX, NUL, " +
        "COM0-9, LPT0-9, CONIN$ and CONOUT$, with any extension): restore it with --to a " +
        "folder on a disk formatted ext4, btrfs, xfs or APFS";
      assert.deepEqual(failed, [
        `NOT RESTORED: source/a:b.txt (v1): ${refused("a:b.txt")}`,
        `NOT RESTORED: source/back\\\\slash.txt (v1): ${refused("back\\\\slash.txt")}`,
        `NOT RESTORED: source/d:x/in.txt (v1): Cannot create folder '${join(to, "d:x")}': ` +
        refused("d:x"),
        `NOT RESTORED: source/q?.txt (v1): ${refused("q?.txt")}`,
      ]);
      assert.deepEqual(readTree(to), { "d/fine.txt": "fine\n", "ok.txt": "ok\n" });
    });
  },
});

Deno.test("a folder removed mid-restore is said as the system says, not as a name the disk refuses (10:00)", async () => {
  using fx = makeFixture({ "x/0.txt": "zero\n", "x/10:00/b.txt": "b\n" });
  assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
  const to = join(fx.dir, "restored");
  const args = ["restore", "--to", to, "--config", fx.config];
  // x/0.txt written to a temporary name in x, held open; x/10:00/b.txt about to be.
  await using paused = await pausedRun(args, "restoring:2", fx.dir);
  const written = listDir(join(to, "x"));
  assert.ok(written.length === 1 && written[0].startsWith(".backup-tool-restore-"), `${written}`);
  Deno.removeSync(join(to, "x"), { recursive: true });
  paused.resume();
  const out = await paused.child.output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 1, stderr);
  const line = stderr.split("\n").find((l) => l.startsWith("NOT RESTORED: source/x/10:00/b.txt"));
  // Until 2026-12-05 said as "the disk does not allow the name '10:00' (FAT, exFAT and NTFS
  // refuse …): restore it with --to a folder on a disk formatted ext4, …", on any disk.
  assert.doesNotMatch(line ?? "", /does not allow the name/);
  // The cause as it is: the folder made anew in the removed one (through /proc), or,
  // where folders are reached by path (no /proc, restricted permissions), made again and
  // the batch's flush failing on the file written before in the removed folder.
  assert.match(
    line ?? stderr,
    /: (Cannot create folder '.*\/x\/10:00': No such file or directory \(os error 2\)|Cannot flush .*: its folder was moved or removed while the restore ran)/,
  );
});
