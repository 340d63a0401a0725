import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { backupBeside } from "./root_elsewhere.ts";
import { linuxMounts } from "../fs/mounts.ts";
import { withDir } from "../test_util.ts";

const SOURCES = [{ name: "docs", path: "/home/u/docs" }];

/** A backup root at `root` whose state records the source of SOURCES. */
function backupAt(root: string): void {
  Deno.mkdirSync(join(root, ".backup-tool"), { recursive: true });
  using db = new DatabaseSync(join(root, ".backup-tool", "state.db"));
  db.exec("PRAGMA user_version = 1; CREATE TABLE sources (name TEXT, path TEXT)");
  db.prepare("INSERT INTO sources VALUES (?, ?)").run(SOURCES[0].name, SOURCES[0].path);
}

Deno.test(
  "backupBeside: never looks into a network file system, an automount or a FUSE one (a dead server would hold it), a disk's through FUSE aside",
  withDir((dir) => {
    const root = join(dir, "media", "u", "DISK", "backup");
    const nas = join(dir, "media", "u", "NAS");
    backupAt(join(nas, "backup"));
    assert.equal(backupBeside(root, SOURCES, []), join(nas, "backup"));
    for (const type of ["nfs4", "cifs", "autofs", "fuse.sshfs"]) {
      assert.equal(backupBeside(root, SOURCES, [{ point: nas, type }]), undefined, type);
    }
    assert.equal(
      backupBeside(root, SOURCES, [{ point: join(dir, "media"), type: "autofs" }]),
      undefined,
    );
    assert.equal(
      backupBeside(root, SOURCES, [{ point: nas, type: "fuseblk" }]),
      join(nas, "backup"),
    );
  }),
);

Deno.test(
  "backupBeside: a symlink on the way is not followed (it may lead anywhere: into a mount kept away from)",
  withDir((dir) => {
    const root = join(dir, "media", "u", "DISK", "backup");
    const away = join(dir, "net", "nas");
    backupAt(join(away, "backup"));
    Deno.mkdirSync(join(dir, "media", "u", "LINK"), { recursive: true });
    Deno.symlinkSync(join(away, "backup"), join(dir, "media", "u", "LINK", "backup"));
    assert.equal(backupBeside(root, SOURCES, []), undefined);
  }),
);

Deno.test(
  "backupBeside: a backup recording some of the config's sources only (another job's, of one shared folder) is not named",
  withDir((dir) => {
    const root = join(dir, "media", "u", "DISK", "backup");
    const other = join(dir, "media", "u", "OTHER", "backup");
    backupAt(other); // records SOURCES[0] alone
    const photos = { name: "photos", path: "/home/u/photos" };
    assert.equal(backupBeside(root, [...SOURCES, photos], []), undefined);
    using db = new DatabaseSync(join(other, ".backup-tool", "state.db"));
    db.prepare("INSERT INTO sources VALUES (?, ?)").run(photos.name, photos.path);
    assert.equal(backupBeside(root, [...SOURCES, photos], []), other);
  }),
);

Deno.test("linuxMounts: each line's mount point (unescaped) and type", () => {
  const mountinfo = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n" +
    "40 22 0:40 / /mnt/my\\040nas rw shared:2 - nfs4 nas:/share rw,vers=4.2\n" +
    "41 22 0:41 / /net rw shared:3 - autofs -hosts rw\n";
  assert.deepEqual(linuxMounts(mountinfo), [
    { point: "/", type: "ext4" },
    { point: "/mnt/my nas", type: "nfs4" },
    { point: "/net", type: "autofs" },
  ]);
});
