import assert from "node:assert/strict";
import { join } from "node:path";
import { folderSyncUnsupported, syncFolder, syncFolders } from "./folder_flush.ts";

Deno.test("syncFolders: flushes folders; one gone or replaced since (a file, a FIFO) is passed over, not waited on", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "flush_test_" });
  try {
    Deno.mkdirSync(join(dir, "a", "b"), { recursive: true });
    Deno.writeTextFileSync(join(dir, "file"), "x");
    Deno.symlinkSync(join(dir, "a"), join(dir, "link")); // never flushed through
    const paths = [dir, join(dir, "a"), join(dir, "a", "b"), join(dir, "gone"), join(dir, "file")];
    paths.push(join(dir, "link"));
    if (Deno.build.os !== "windows") {
      const made = await new Deno.Command("mkfifo", { args: [join(dir, "pipe")] }).output();
      assert.ok(made.success, "mkfifo");
      paths.push(join(dir, "pipe"));
    }
    // Waves of two; a FIFO opened for reading would wait for a writer that never comes.
    await syncFolders([...paths, join(dir, "file", "below")], 2);
    // One by one: the folders are flushed, what is not a folder (or not there) is not
    // (Windows flushes no folder: syncFolders does nothing there).
    if (Deno.build.os === "windows") return;
    const flushed = [];
    for (const p of [...paths, join(dir, "file", "below")]) flushed.push(await syncFolder(p));
    assert.deepEqual(
      flushed,
      [true, true, true, false, false, false, ...(paths.length > 6 ? [false] : []), false],
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("folderSyncUnsupported: a file system without folder fsync goes on; a failing disk does not", () => {
  const unsupported = [
    new Error("Invalid argument (os error 22)"), // EINVAL: no fsync for folders there
    new Error("Bad file descriptor (os error 9)"),
    new Error("Operation not supported (os error 95)"),
    new Deno.errors.PermissionDenied("Permission denied (os error 13)"),
  ];
  for (const e of unsupported) assert.ok(folderSyncUnsupported(e), e.message);
  const failing = new Error("Input/output error (os error 5)");
  assert.equal(folderSyncUnsupported(failing), Deno.build.os === "windows");
});
