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
