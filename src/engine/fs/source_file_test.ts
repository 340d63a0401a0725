/**
 * Both ways of opening a source file (the C library through FFI, which `openSource` uses
 * here under `-A`, and node:fs, which the compiled binary uses) must read the same bytes,
 * stat what Deno's lstat gives (fingerprints are compared with the walk's), never wait on
 * a FIFO nor follow a symlink, and fail with Deno's error classes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fromFileInfo } from "./folders.ts";
import fs from "node:fs";
import { denoOpen, nodeOpener, type Opener, openSource } from "./source_file.ts";

const posix = Deno.build.os !== "windows";
const OPENERS: [string, Opener][] = [["openSource", openSource], ["node:fs", nodeOpener(fs)]];

function withDir(fn: (dir: string) => void): void {
  const dir = Deno.makeTempDirSync();
  try {
    fn(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

function readAll(open: Opener, path: string): Uint8Array {
  using f = open(path);
  const buf = new Uint8Array(3);
  const parts: number[] = [];
  for (let n = f.read(buf); n > 0; n = f.read(buf)) parts.push(...buf.subarray(0, n));
  return new Uint8Array(parts);
}

// Deno's open (Windows) only for what it does alike: it would wait on a FIFO.
for (const [name, open] of [...OPENERS, ["Deno.openSync", denoOpen] as [string, Opener]]) {
  Deno.test(`${name}: reads a file's bytes and stats it as Deno's lstat does`, () => {
    withDir((dir) => {
      const path = join(dir, "ünïcode ✓.txt");
      Deno.writeTextFileSync(path, "hello, world");
      Deno.utimeSync(path, new Date(1_600_000_000_123.456), new Date(1_600_000_000_123.456));
      assert.equal(new TextDecoder().decode(readAll(open, path)), "hello, world");
      using f = open(path);
      // The change time to the nanosecond, where the opener gives it, falls in Deno's second.
      const { ctimeExact, ...stat } = f.stat();
      assert.deepEqual(stat, fromFileInfo(Deno.lstatSync(path)));
      if (ctimeExact !== undefined) {
        assert.equal(Number(ctimeExact.split(".")[0]) * 1000, stat.ctimeMs);
      }
    });
  });
}

for (const [name, open] of OPENERS) {
  Deno.test({
    name: `${name}: a FIFO opens at once and stats as one; a symlink is not followed`,
    ignore: !posix,
    fn: () =>
      withDir((dir) => {
        const fifo = join(dir, "pipe");
        assert.equal(new Deno.Command("mkfifo", { args: [fifo] }).outputSync().code, 0);
        {
          using f = open(fifo); // no writer: Deno's open would wait here for good
          assert.equal(f.stat().kind, "fifo");
        }
        Deno.writeTextFileSync(join(dir, "target"), "t");
        Deno.symlinkSync(join(dir, "target"), join(dir, "link"));
        assert.throws(() => open(join(dir, "link")), Deno.errors.FilesystemLoop);
      }),
  });

  Deno.test({
    name: `${name}: fails with Deno's error classes, in Deno's words`,
    ignore: !posix,
    fn: () =>
      withDir((dir) => {
        const missing = join(dir, "missing");
        assert.throws(() => open(missing), (e: Error) => {
          assert.ok(e instanceof Deno.errors.NotFound, String(e));
          assert.equal(e.message, `No such file or directory (os error 2): open '${missing}'`);
          return true;
        });
        Deno.writeTextFileSync(join(dir, "file"), "f");
        assert.throws(() => open(join(dir, "file", "x")), Deno.errors.NotADirectory);
        using folder = open(dir);
        assert.throws(() => folder.read(new Uint8Array(8)), Deno.errors.IsADirectory);
        // An errno without a class of Deno's (a socket cannot be opened: ENXIO), alike.
        const socket = join(dir, "socket");
        using _listener = Deno.listen({ transport: "unix", path: socket });
        assert.throws(
          () => open(socket),
          { message: `No such device or address (os error 6): open '${socket}'` },
        );
      }),
  });
}
