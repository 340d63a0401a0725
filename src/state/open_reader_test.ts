import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { openReader, readerUrl } from "./open_reader.ts";

Deno.test("readerUrl: a drive's path or a POSIX one, any character escaped, with readonly_shm", () => {
  assert.equal(
    readerUrl("C:\\a b#c?d%e é\\.backup-tool\\state.db", true)?.href,
    "file:///C:/a%20b%23c%3Fd%25e%20%C3%A9/.backup-tool/state.db?readonly_shm=1",
  );
  assert.equal(
    readerUrl("\\\\?\\C:\\b\\.backup-tool\\state.db", true)?.href,
    "file:///C:/b/.backup-tool/state.db?readonly_shm=1",
  );
  assert.equal(
    readerUrl("/mnt/a b#?%é/.backup-tool/state.db", false)?.href,
    "file:///mnt/a%20b%23%3F%25%C3%A9/.backup-tool/state.db?readonly_shm=1",
  );
});

Deno.test("readerUrl: none for a path on a Windows share, whose URI SQLite refuses", () => {
  for (const p of ["\\\\nas\\backups\\.backup-tool\\state.db", "\\\\?\\UNC\\nas\\b\\state.db"]) {
    assert.equal(readerUrl(p, true), undefined, p);
  }
  assert.throws(
    () => new DatabaseSync(new URL("file://nas/backups/state.db?readonly_shm=1")),
    /invalid uri authority: nas/,
  );
});

Deno.test("openReader: a state on a Windows share is opened by its path", () => {
  const dir = Deno.makeTempDirSync({ prefix: "bt-reader-" });
  try {
    const file = join(dir, "state.db");
    const db = new DatabaseSync(file);
    db.exec("CREATE TABLE t (x); INSERT INTO t VALUES (1)");
    db.close();
    // Its URI as on a Windows share: a host, which SQLite refuses.
    const reader = openReader(file, readerUrl("\\\\nas\\backups\\state.db", true));
    try {
      assert.deepEqual({ ...reader.prepare("SELECT x FROM t").get() }, { x: 1 });
    } finally {
      reader.close();
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
