/** Unit tests of the hasher: a file is copied only if it is the very file the walk saw. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { statFields } from "./fs/folders.ts";
import { loadDigests } from "./digest.ts";
import {
  changeTooRecent,
  FileChangedError,
  hashCopy,
  NotAFileError,
  READ_BUFFER_BYTES,
  stageEntry,
} from "./stage.ts";
import type { ScanEntry } from "../core/types.ts";

Deno.test("stageEntry: a file reached through a folder swapped for a symlink since the walk is refused", async () => {
  await loadDigests();
  const dir = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(join(dir, "sub"));
    Deno.writeTextFileSync(join(dir, "sub", "f"), "mine");
    const abs = join(dir, "sub", "f");
    const entry: ScanEntry = {
      path: "s/sub/f",
      abs,
      kind: "file",
      ...statFields(Deno.lstatSync(abs)),
    };
    const buf = new Uint8Array(READ_BUFFER_BYTES);
    assert.equal(stageEntry(entry, "sha256", buf).entry.size, 4); // the walk's file: fine

    // Someone swaps the folder for a symlink to a folder holding a file of that name.
    Deno.renameSync(join(dir, "sub"), join(dir, "sub-old"));
    Deno.mkdirSync(join(dir, "outside"));
    Deno.writeTextFileSync(join(dir, "outside", "f"), "secr"); // same size, even
    Deno.utimeSync(join(dir, "outside", "f"), entry.mtimeMs / 1000, entry.mtimeMs / 1000);
    Deno.symlinkSync(join(dir, "outside"), join(dir, "sub"));
    assert.throws(() => stageEntry(entry, "sha256", buf), FileChangedError);
    assert.throws(() => stageEntry(entry, "sha256", buf), /was replaced through a symlink/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("stageEntry: a file saved by rename since the walk (a new inode) is read again", async () => {
  await loadDigests();
  const dir = Deno.makeTempDirSync();
  try {
    const abs = join(dir, "doc.txt");
    Deno.writeTextFileSync(abs, "version 1");
    const entry: ScanEntry = {
      path: "s/doc.txt",
      abs,
      kind: "file",
      ...statFields(Deno.lstatSync(abs)),
    };
    // An editor's save: the new content written beside, then renamed over the old file.
    Deno.writeTextFileSync(join(dir, ".doc.txt.swp"), "version 2, longer");
    Deno.renameSync(join(dir, ".doc.txt.swp"), abs);
    const staged = stageEntry(entry, "sha256", new Uint8Array(READ_BUFFER_BYTES));
    assert.equal(staged.entry.size, "version 2, longer".length);
    assert.notEqual(staged.entry.ino, entry.ino);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test({
  name: "hashCopy: a device or a FIFO with a writer is refused before it is read",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await loadDigests();
    const buf = new Uint8Array(READ_BUFFER_BYTES);
    // /dev/zero never ends: read, it held a run (and its lock) for good.
    assert.throws(() => hashCopy("/dev/zero", "file", "sha256", buf), NotAFileError);
    const dir = Deno.makeTempDirSync();
    try {
      const fifo = join(dir, "pipe");
      const made = new Deno.Command("mkfifo", { args: [fifo] }).outputSync();
      assert.equal(made.code, 0);
      // Opened to read and write, a FIFO has a writer at once (Linux and macOS alike).
      using writer = Deno.openSync(fifo, { read: true, write: true });
      writer.writeSync(new TextEncoder().encode("data"));
      assert.throws(
        () => hashCopy(fifo, "file", "sha256", buf),
        /'.*pipe': it is a fifo, not a file/,
      );
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test("changeTooRecent: a read begun within its change time's resolution of the last change is made once more", () => {
  const began = Date.UTC(2026, 11, 3, 17, 0, 5, 0);
  const seconds = (ms: number) => Math.floor(ms / 1000);
  const exact = (ms: number, nanos: number) => ({
    ctimeMs: seconds(ms) * 1000,
    ctimeExact: `${seconds(ms)}.${nanos}`,
  });
  // Stamped to the nanosecond: a kernel tick (before Linux 6.13) and a margin.
  assert.equal(changeTooRecent(exact(began - 1000, 1), began), false);
  assert.equal(changeTooRecent(exact(began - 1000, 960_000_000), began), true); // 40 ms ago
  assert.equal(changeTooRecent(exact(began - 1000, 940_000_000), began), false); // 60 ms ago
  // No nanoseconds: a file system of whole seconds (or FAT's two): a torn copy went unseen.
  assert.equal(changeTooRecent(exact(began - 1000, 0), began), true);
  assert.equal(changeTooRecent(exact(began - 2000, 0), began), true);
  assert.equal(changeTooRecent(exact(began - 3000, 0), began), false);
  // Deno's own stat (no FFI): the second only, of a time FAT keeps to two.
  assert.equal(changeTooRecent({ ctimeMs: began - 2000 }, began), true);
  assert.equal(changeTooRecent({ ctimeMs: began - 3000 }, began), false);
  // No change time at all: nothing to go by.
  assert.equal(changeTooRecent({ ctimeMs: 0 }, began), false);
});
