/**
 * Unit tests of file operations that behave differently off Linux: the same-file test where
 * the platform gives no inode numbers (`ino` null, which Deno allows on Windows), simulated
 * by lstat results with `ino` cleared; how a file is opened to be flushed; which kind of
 * symlink Windows is asked for; how failures on FAT and exFAT disks are explained.
 */
import assert from "node:assert/strict";
import { errorText } from "../errors.ts";
import { join } from "node:path";
import { syncOpenOptions } from "./flush.ts";
import { isDiskFull } from "../errors.ts";
import { exactIdentity, holdsSame } from "./identity.ts";
import {
  makeSymlink,
  notImplementedHere,
  placeFailure,
  refusedName,
  restoredLinkTarget,
  symlinkType,
} from "./portability.ts";
import { withDir } from "../test_util.ts";

/** lstat as Deno may report it on Windows: no inode number. */
const noIno = (p: string): Deno.FileInfo => ({ ...Deno.lstatSync(p), ino: null });

Deno.test(
  "holdsSame: without inode numbers, two files of one volume are not the same unless their bytes are",
  withDir((dir) => {
    const [a, b, c] = ["a", "b", "c"].map((n) => join(dir, n));
    Deno.writeTextFileSync(a, "new content");
    Deno.writeTextFileSync(b, "old content"); // same size, other bytes
    Deno.writeTextFileSync(c, "new content");
    assert.equal(holdsSame(a, noIno(a), b, noIno(b)), false);
    assert.equal(holdsSame(a, noIno(a), c, noIno(c)), true);
    Deno.linkSync(a, join(dir, "a2"));
    assert.equal(holdsSame(a, noIno(a), join(dir, "a2"), noIno(join(dir, "a2"))), true);
    // With inode numbers, only hard links of one inode are the same.
    assert.equal(holdsSame(a, Deno.lstatSync(a), c, Deno.lstatSync(c)), false);
    assert.equal(
      holdsSame(a, Deno.lstatSync(a), join(dir, "a2"), Deno.lstatSync(join(dir, "a2"))),
      true,
    );
  }),
);

Deno.test(
  "holdsSame: without inode numbers, symlinks are the same when their targets are",
  withDir((dir) => {
    const [x, y, z, f] = ["x", "y", "z", "f"].map((n) => join(dir, n));
    Deno.symlinkSync("t1", x);
    Deno.symlinkSync("t1", y);
    Deno.symlinkSync("t2", z);
    Deno.writeTextFileSync(f, "t1");
    assert.equal(holdsSame(x, noIno(x), y, noIno(y)), true);
    assert.equal(holdsSame(x, noIno(x), z, noIno(z)), false);
    assert.equal(holdsSame(x, noIno(x), f, noIno(f)), false);
  }),
);

Deno.test("exactIdentity: none past 2^53 (NTFS file ids round there), nor without a number", () => {
  assert.deepEqual(exactIdentity({ ino: 1234, dev: 5 }), { ino: 1234, dev: 5 });
  // Sequence number 64 and MFT records 9 and 10: one number once read as a JavaScript number.
  const [a, b] = [64n << 48n | 9n, 64n << 48n | 10n].map(Number);
  assert.equal(a, b);
  assert.equal(exactIdentity({ ino: a, dev: 5 }), undefined);
  assert.equal(exactIdentity({ ino: null, dev: 5 }), undefined);
  assert.equal(exactIdentity({ ino: 0, dev: 5 }), undefined);
});

Deno.test("syncOpenOptions: a handle with write access on Windows, read-only elsewhere", () => {
  assert.deepEqual(syncOpenOptions("windows"), { write: true });
  assert.deepEqual(syncOpenOptions("linux"), { read: true });
  assert.deepEqual(syncOpenOptions("darwin"), { read: true });
});

Deno.test("symlinkType: a folder's symlink (folder bits in its recorded mode) is a 'dir' link", () => {
  assert.equal(symlinkType(0o040666), "dir"); // Deno on Windows: a symlink to a folder
  assert.equal(symlinkType(0o100666), "file"); // Deno on Windows: a symlink to a file
  assert.equal(symlinkType(0o120777), "file"); // Linux, macOS: the option is ignored there
  assert.equal(symlinkType(0), "file");
});

Deno.test(
  "makeSymlink: a relative or dangling target is linked as it is",
  withDir((dir) => {
    makeSymlink("../elsewhere/missing", join(dir, "l1"), 0o120777);
    makeSymlink("sub", join(dir, "l2"), 0o040666);
    assert.equal(Deno.readLinkSync(join(dir, "l1")), "../elsewhere/missing");
    assert.equal(Deno.readLinkSync(join(dir, "l2")), "sub");
  }),
);

Deno.test("restoredLinkTarget: a recorded '/' target is restored with '\\' on Windows only", () => {
  // Windows resolves only backslashes in a symlink's target: a Linux target kept as it is
  // would make a link that leads nowhere.
  assert.equal(restoredLinkTarget("../shared/a.txt", "windows"), "..\\shared\\a.txt");
  assert.equal(restoredLinkTarget("./sub/dir/", "windows"), ".\\sub\\dir\\");
  assert.equal(restoredLinkTarget("/home/u/x", "windows"), "\\home\\u\\x");
  assert.equal(restoredLinkTarget("..\\made\\on\\windows", "windows"), "..\\made\\on\\windows");
  assert.equal(restoredLinkTarget("\\\\?\\C:\\a/b", "windows"), "\\\\?\\C:\\a/b"); // verbatim
  // Elsewhere byte for byte: a backslash is part of a name there.
  for (const os of ["linux", "darwin"] as const) {
    assert.equal(restoredLinkTarget("../shared/a.txt", os), "../shared/a.txt");
    assert.equal(restoredLinkTarget("a\\b", os), "a\\b");
  }
});

Deno.test("placeFailure: a name FAT and exFAT refuse is said as such; other failures as they are", () => {
  const notFound = new Deno.errors.NotFound("No such file or directory (os error 2): rename 'x'");
  assert.match(placeFailure("d/a:b.txt", notFound), /does not allow the name 'a:b.txt'/);
  assert.match(placeFailure("dir:x/in.txt", notFound), /the name 'dir:x'/);
  assert.match(placeFailure("d/trailing. ", notFound), /the name 'trailing. '/);
  const invalid = new Error("Invalid argument (os error 22): rename 'x'");
  assert.match(placeFailure("d/what?.txt", invalid), /the name 'what\?.txt'/);
  assert.equal(placeFailure("d/plain.txt", notFound), notFound.message);
  const denied = new Deno.errors.PermissionDenied("Permission denied (os error 13)");
  assert.equal(placeFailure("d/a:b.txt", denied), denied.message);
});

Deno.test("refusedName: the name a disk refuses, where the failure (or its cause) is how it refuses one", () => {
  const notFound = new Deno.errors.NotFound("No such file or directory (os error 2): rename 'x'");
  assert.equal(refusedName(["d:x", "in.txt"], notFound), "d:x");
  assert.equal(
    refusedName(["ok", "q?.txt"], new Error("Invalid argument (os error 22)")),
    "q?.txt",
  );
  // A restore's folder that could not be made: its error wraps the system's.
  const wrapped = new Error("No such file or directory: '/mnt/d:x'", { cause: notFound });
  assert.equal(refusedName(["d:x"], wrapped), "d:x");
  assert.equal(refusedName(["ok", "fine.txt"], notFound), undefined);
  const denied = new Deno.errors.PermissionDenied("Permission denied (os error 13)");
  assert.equal(refusedName(["a:b.txt"], denied), undefined);
  assert.equal(refusedName(["aux.txt"], new Error("(os error 123)"), "windows"), "aux.txt");
  assert.equal(refusedName(["aux.txt"], new Error("(os error 123)"), "linux"), undefined);
});

Deno.test("placeFailure: a Windows device name, and Windows' own refusal (os error 123), are said as such", () => {
  const invalid = new Error("Invalid argument (os error 22): link 'x'"); // ntfs-3g windows_names
  assert.match(
    placeFailure("d/aux.txt", invalid),
    /does not allow the name 'aux.txt'.*device names/,
  );
  assert.match(placeFailure("CON/a.txt", invalid), /the name 'CON'/);
  assert.match(placeFailure("d/lpt1.tar.gz", invalid), /the name 'lpt1.tar.gz'/);
  // As Microsoft lists them: COM0 and LPT0 too, and the console's CONIN$ and CONOUT$.
  assert.match(placeFailure("d/com0.txt", invalid), /the name 'com0.txt'/);
  assert.match(placeFailure("d/CONOUT$", invalid), /the name 'CONOUT\$'/);
  assert.equal(placeFailure("d/console.txt", invalid), errorText(invalid));
  assert.match(placeFailure("d/COM\u00b2", invalid), /the name 'COM\u00b2'/);
  const windows = new Error(
    "The filename, directory name, or volume label syntax is incorrect. (os error 123)",
  );
  assert.match(
    placeFailure("d/a:b.txt", windows, "windows"),
    /does not allow the name 'a:b.txt'/,
  );
  // Names that only start like one are names.
  assert.equal(placeFailure("d/auxiliary.txt", invalid), invalid.message);
  assert.equal(placeFailure("d/com10", invalid), invalid.message);
});

Deno.test("notImplementedHere: ENOSYS and EOPNOTSUPP, as Deno reports them", () => {
  const os = Deno.build.os === "darwin" ? [78, 102] : [38, 95];
  for (const code of os) {
    assert.ok(notImplementedHere(new Error(`Function not implemented (os error ${code}): chmod`)));
  }
  assert.ok(!notImplementedHere(new Error("Permission denied (os error 13): chmod 'x'")));
  assert.ok(notImplementedHere(new Deno.errors.NotSupported("no")));
});

Deno.test("notImplementedHere: each system's numbers for a call its file system lacks", () => {
  const error = (n: number) => new Error(`Operation not supported (os error ${n})`);
  assert.ok(notImplementedHere(error(95), "linux"));
  assert.ok(notImplementedHere(error(38), "linux"));
  assert.ok(!notImplementedHere(error(45), "linux")); // EL2NSYNC there, not ENOTSUP
  // macOS: ENOTSUP (45) is what an SMB mount answers a full flush (F_FULLFSYNC) with.
  for (const n of [45, 78, 102]) assert.ok(notImplementedHere(error(n), "darwin"), `${n}`);
  // Windows: ERROR_INVALID_FUNCTION and ERROR_NOT_SUPPORTED (a FAT disk's symlink).
  for (const n of [1, 50]) assert.ok(notImplementedHere(error(n), "windows"), `${n}`);
  assert.ok(!notImplementedHere(error(5), "windows"));
});

Deno.test("isDiskFull: each system's words and numbers for a full disk or a quota", () => {
  assert.ok(isDiskFull("No space left on device (os error 28)", "linux"));
  assert.ok(isDiskFull("Disk quota exceeded (os error 122)", "linux"));
  assert.ok(isDiskFull("database or disk is full", "linux"));
  assert.ok(isDiskFull("Disc quota exceeded (os error 69)", "darwin"));
  assert.ok(isDiskFull("There is not enough space on the disk. (os error 112)", "windows"));
  assert.ok(isDiskFull("The disk is full. (os error 39)", "windows"));
  // os error 122 is ERROR_INSUFFICIENT_BUFFER on Windows: no full disk.
  assert.ok(
    !isDiskFull("The data area passed to a system call is too small. (os error 122)", "windows"),
  );
});

Deno.test("holdsSame: inode numbers past 2^53 (NTFS ids) prove nothing: the bytes decide", () => {
  withDir((dir) => {
    const [a, b] = [join(dir, "a"), join(dir, "b")];
    Deno.writeTextFileSync(a, "one");
    Deno.writeTextFileSync(b, "two");
    const x = Deno.lstatSync(a);
    const y = Deno.lstatSync(b);
    const big = 2 ** 60; // both rounded to the same number
    assert.equal(holdsSame(a, { ...x, ino: big, dev: 1 }, b, { ...y, ino: big, dev: 1 }), false);
    Deno.writeTextFileSync(b, "one");
    assert.equal(holdsSame(a, { ...x, ino: big, dev: 1 }, b, { ...y, ino: big, dev: 1 }), true);
    assert.equal(holdsSame(a, { ...x, ino: 7, dev: 1 }, b, { ...y, ino: 7, dev: 1 }), true);
  });
});

Deno.test("placeFailure: os error 123 off Windows is ENOMEDIUM, a disk gone, not a name refused", () => {
  // A backup to an SD card pulled from its reader, of a folder named `aux` (LaTeX's).
  const gone = new Error("No medium found (os error 123): link 'x'");
  assert.equal(placeFailure("d/aux/a.txt", gone, "linux"), gone.message);
  assert.match(placeFailure("d/aux/a.txt", gone, "windows"), /does not allow the name 'aux'/);
});
