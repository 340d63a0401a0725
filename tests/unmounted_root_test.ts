/**
 * A backup disk not mounted where /etc/fstab mounts it, end to end: the backup root is a
 * tmpfs mounted and unmounted by the test (root only), and the CLI runs in a mount
 * namespace of its own (`unshare -m`) where a table written by the test is bind-mounted
 * over /etc/fstab, so the machine's own table is neither read nor changed. The logs alone
 * could not tell the disk is missing here: `log_dir` was changed meanwhile. And a backup
 * root below /mnt whose disk's folder is missing (a disk an automounter or a person mounts
 * there), for which neither the logs nor the table can tell.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, runCli, writeConfig } from "./helpers.ts";
import { canUnshare, cliWithTable, succeeds } from "./fstab_namespace.ts";

const canMount = canUnshare;
if (!canMount) console.log("SKIP unmounted backup disk test: needs root and unshare on Linux");

Deno.test({
  name:
    "a backup disk fstab mounts, not mounted, with log_dir changed meanwhile: run, watch and plan refuse (exit 2), nothing made",
  ignore: !canMount,
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n" });
    const backup = join(Deno.realPathSync(fx.dir), "backup");
    Deno.mkdirSync(backup);
    const fstab = join(fx.dir, "fstab");
    // As the table writes a mount point with a space: the space escaped, a trailing slash.
    Deno.writeTextFileSync(
      fstab,
      `# a test's table\nUUID=1 / ext4 defaults 0 1\n/dev/sdz1\t${backup}/ ext4 noauto,nofail 0 2\n`,
    );
    assert.ok(await succeeds("mount", "-t", "tmpfs", "none", backup));
    let mounted = true;
    try {
      const first = await cliWithTable(fstab, ["run", "--config", fx.config]);
      assert.equal(first.code, 0, first.stderr);
      assert.ok(await succeeds("umount", backup));
      mounted = false;
      // The logs of the runs into it left behind: the config now names another log_dir.
      writeConfig(fx.config, {
        sources: ["./source"],
        backup_root: "./backup",
        log_dir: "./logs2",
      });
      const before = [...Deno.readDirSync(fx.dir)].map((e) => e.name).sort();
      for (const command of ["run", "watch", "plan"]) {
        const r = await cliWithTable(fstab, [command, "--config", fx.config]);
        assert.equal(r.code, 2, `${command}: ${r.stdout}${r.stderr}`);
        assert.equal(
          r.stderr,
          `Cannot back up to '${backup}': it holds no backup, and '/etc/fstab' mounts a disk on ` +
            `'${backup}', where nothing is mounted now: mount it and run again (if that disk ` +
            "is no longer used, remove its line from '/etc/fstab' first)\n",
        );
        assert.deepEqual([...Deno.readDirSync(backup)], [], `${command} wrote in the mount point`);
        assert.deepEqual([...Deno.readDirSync(fx.dir)].map((e) => e.name).sort(), before);
      }
      // Mounted again (an empty disk here), the run goes on.
      assert.ok(await succeeds("mount", "-t", "tmpfs", "none", backup));
      mounted = true;
      const again = await cliWithTable(fstab, ["run", "--config", fx.config]);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(Deno.readTextFileSync(join(backup, "a.txt")), "a\n");
    } finally {
      if (mounted) await succeeds("umount", backup);
    }
  },
});

const hasMnt = Deno.build.os !== "windows" && (() => {
  try {
    return Deno.statSync("/mnt").isDirectory;
  } catch {
    return false;
  }
})();

Deno.test({
  name:
    "a backup root below /mnt whose disk's folder is missing, no logs, no table: run, watch and plan refuse (exit 2), nothing made",
  ignore: !hasMnt,
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n" });
    const disk = `/mnt/bt-test-disk-${Deno.pid}-${Date.now()}`;
    const backup = join(disk, "backup");
    writeConfig(fx.config, { sources: ["./source"], backup_root: backup, log_dir: "./logs" });
    const before = [...Deno.readDirSync(fx.dir)].map((e) => e.name).sort();
    try {
      for (const command of ["run", "watch", "plan"]) {
        const r = await runCli([command, "--config", fx.config]);
        assert.equal(r.code, 2, `${command}: ${r.stdout}${r.stderr}`);
        assert.equal(
          r.stderr,
          `Cannot back up to '${backup}': '${disk}' does not exist, and a removable disk is ` +
            "mounted there when it is plugged in: mount the disk and run again (to keep the " +
            `backup on this computer's own disk, create '${disk}' first)\n`,
        );
        assert.throws(() => Deno.statSync(disk), Deno.errors.NotFound, `${command} made it`);
        assert.deepEqual([...Deno.readDirSync(fx.dir)].map((e) => e.name).sort(), before);
      }
    } finally {
      try {
        Deno.removeSync(disk, { recursive: true });
      } catch { /* not made */ }
    }
  },
});
