import assert from "node:assert/strict";
import { join } from "node:path";
import { stateProblem, walWorksOn } from "./connection.ts";
import { PreflightError } from "../engine/errors.ts";
import { withDir } from "../engine/test_util.ts";

Deno.test("walWorksOn: not on FUSE or network file systems, where shared memory may fail", () => {
  for (const t of ["ext4", "xfs", "btrfs", "tmpfs", "zfs", undefined]) assert.ok(walWorksOn(t), t);
  for (const t of ["fuseblk", "fuse", "fuse.sshfs", "nfs4", "cifs", "9p", "virtiofs"]) {
    assert.ok(!walWorksOn(t), t);
  }
  // What macOS's mount table names (and Windows' shares, as mounts.ts names them).
  for (const t of ["smbfs", "nfs", "afpfs", "webdav", "macfuse", "osxfuse"]) {
    assert.ok(!walWorksOn(t), t);
  }
  for (const t of ["apfs", "hfs", "exfat", "msdos"]) assert.ok(walWorksOn(t), t);
});

Deno.test({
  name: "stateProblem: SQLite failing to open a journal swapped for a symlink is the refusal",
  ignore: Deno.build.os === "windows", // symlinks need a privilege there
  fn: withDir((root) => {
    const dir = join(root, ".backup-tool");
    Deno.mkdirSync(dir);
    const db = join(dir, "state.db");
    Deno.writeTextFileSync(db, "");
    Deno.symlinkSync(join(root, "elsewhere"), `${db}-wal`);
    const found = stateProblem(db, new Error("unable to open database file"), true);
    assert.ok(found instanceof PreflightError);
    assert.match(found.message, /'\.backup-tool\/state\.db-wal' is a symlink/);
    // With nothing swapped, not a problem this user can mend: left to the caller.
    Deno.removeSync(`${db}-wal`);
    assert.equal(stateProblem(db, new Error("unable to open database file"), true), undefined);
  }),
});
