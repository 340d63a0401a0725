/**
 * A backup root made on a disk that keeps letter case, copied onto exFAT (`cp -r`, as a
 * file manager does) to be read there: what the copy could not hold must be said as what
 * it is, not as damage. Runs only as root with exfat-fuse (fat_disks.ts).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, writeConfig } from "../helpers.ts";
import { runTool, sh } from "./util.ts";
import { DISKS, has, isRoot, withDisk } from "./fat_disks.ts";

Deno.test({
  name:
    "a backup root with case-only twins copied onto exFAT: the twin the copy could not hold is said to be missing on a disk that ignores case, never damaged, and never restored wrong",
  ignore: !isRoot || !DISKS[1].tools.every(has),
  fn: async () => {
    using fx = makeFixture({ "d/README": "upper\n", "d/readme": "lower, longer\n" });
    assert.equal((await fx.cli("run")).code, 0);
    await withDisk(DISKS[1], fx.dir, "64M", async (mnt) => {
      // cp says it cannot make 'readme' beside 'README' there, and goes on.
      await sh(`cp -r '${fx.backup}' '${mnt}/backup' 2>/dev/null || true`);
      writeConfig(fx.config, {
        sources: ["./source"],
        backup_root: "./mnt/backup",
        log_dir: "./logs",
      });
      const to = join(fx.dir, "restored");
      const r = await runTool(["restore", "--to", to, "--config", fx.config]);
      assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
      const out = r.stdout + r.stderr;
      assert.doesNotMatch(out, /damaged or altered/);
      // Which twin the copy holds is the order cp met them in (the source disk's listing).
      const [held] = [...Deno.readDirSync(join(mnt, "backup", "d"))].map((e) => e.name);
      const lost = held === "README" ? "readme" : "README";
      const contents: Record<string, string> = { README: "upper\n", readme: "lower, longer\n" };
      assert.match(
        out,
        new RegExp(
          `NOT RESTORED: source/d/${lost} \\(v1\\): the stored copy '.*/mnt/backup/d/${lost}' is ` +
            `not on this disk, which ignores letter case: '${held}', another file's copy, answers ` +
            "to its name; restore from a copy of the backup root on a disk that tells letter case " +
            "apart \\(ext4, btrfs, xfs; not exFAT, FAT, or APFS and NTFS as macOS and Windows " +
            "make them\\)",
        ),
      );
      assert.equal(Deno.readTextFileSync(join(to, "d", held)), contents[held]);
      const verify = await runTool(["verify", "--config", fx.config]);
      assert.match(verify.stdout + verify.stderr, new RegExp(`MISSING: d/${lost}`));
    });
  },
});
