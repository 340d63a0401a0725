/** Unit tests of how restore says a destination folder it cannot write in (write.ts). */
import assert from "node:assert/strict";
import { cannotWriteIn } from "./write.ts";

const TMP = ".backup-tool-restore-7-1.tmp";

Deno.test("cannotWriteIn: a read-only disk, by each system's number; a disk that cannot be read is not one", () => {
  const linux = new Error(`Read-only file system (os error 30): open '/mnt/x/${TMP}'`);
  assert.match(cannotWriteIn("/mnt/x", TMP, linux, "linux")!.message, /mounted read-only/);
  assert.match(cannotWriteIn("/Volumes/x", TMP, linux, "darwin")!.message, /mounted read-only/);
  const locked = new Error(`The media is write protected. (os error 19): open 'E:\\x\\${TMP}'`);
  assert.match(cannotWriteIn("E:\\x", TMP, locked, "windows")!.message, /mounted read-only/);
  // Windows' 30 is ERROR_READ_FAULT: said as the system says it, not as a read-only disk.
  const readFault = new Error(
    `The system cannot read from the specified device. (os error 30): open 'E:\\x\\${TMP}'`,
  );
  assert.equal(cannotWriteIn("E:\\x", TMP, readFault, "windows"), undefined);
  const denied = new Deno.errors.PermissionDenied(`Access is denied. (os error 5): open '${TMP}'`);
  assert.match(cannotWriteIn("E:\\x", TMP, denied, "windows")!.message, /permission denied/);
});

Deno.test("cannotWriteIn: a folder immutable (EPERM) is said so, with the flag's remedy, not 'make it writable'", () => {
  const eperm = new Deno.errors.PermissionDenied(
    `Operation not permitted (os error 1): open '/s/d/${TMP}'`,
  );
  const linux = cannotWriteIn("/s/d", TMP, eperm, "linux")!.message;
  assert.equal(
    linux,
    "Cannot write in '/s/d': operation not permitted: the folder is immutable ('lsattr -d' " +
      "shows i or a): take the flag off with 'chattr -i' or 'chattr -a', or restore with --to a " +
      "folder you can write to",
  );
  assert.match(cannotWriteIn("/s/d", TMP, eperm, "darwin")!.message, /chflags nouchg/);
  const eacces = new Deno.errors.PermissionDenied(`Permission denied (os error 13): open '${TMP}'`);
  assert.match(cannotWriteIn("/s/d", TMP, eacces, "linux")!.message, /permission denied: make it/);
});
