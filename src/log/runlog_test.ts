import assert from "node:assert/strict";
import { join } from "node:path";
import { compareRunLogNames, isRunLogFile, logsNaming } from "./log_files.ts";
import { oneLine, readOneLine } from "./one_line.ts";
import { LogError, RunLog } from "./runlog.ts";

Deno.test("RunLog.rollOver: past the size, the log goes on in a new file, each naming the other, old ones rotated", () => {
  const dir = Deno.makeTempDirSync({ prefix: "runlog_test_" });
  try {
    const log = RunLog.open(dir, "watch", new Date(Date.UTC(2026, 0, 1)));
    const first = log.path;
    log.line("Run started: watch (a test)"); // how every session's log begins
    log.flush();
    log.rollOver(1 << 20, 5);
    assert.equal(log.path, first, "under the size: the same file");
    for (let i = 0; i < 3; i++) {
      for (let n = 0; n < 50; n++) log.line(`line ${n} of round ${i}, padding padding padding`);
      log.flush();
      log.rollOver(1024, 2);
    }
    log.close();
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort(compareRunLogNames);
    assert.equal(names.length, 2, names.join(", "));
    assert.ok(!names.includes(first.slice(dir.length + 1)), "the first file was rotated away");
    const text = (name: string) => Deno.readTextFileSync(join(dir, name));
    assert.match(text(names[0]), new RegExp(`LOG continues in ${names[1]}\\n$`));
    assert.match(text(names[1]), new RegExp(`^\\S+ LOG continued from ${names[0]}\\n`));
    assert.match(text(names[1]), /LOG ROTATE delete: /);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("compareRunLogNames: by time, then a log made in the same millisecond after the first", () => {
  const names = [
    "2026-12-02T08-08-03.891Z-watch-2.log",
    "2026-12-02T08-08-03.897Z-watch.log",
    "2026-12-02T08-08-03.891Z-watch-10.log",
    "2026-12-02T08-08-03.891Z-watch.log",
    "2026-12-02T08-08-03.888Z-run.log",
  ];
  assert.deepEqual(names.sort(compareRunLogNames), [
    "2026-12-02T08-08-03.888Z-run.log",
    "2026-12-02T08-08-03.891Z-watch.log",
    "2026-12-02T08-08-03.891Z-watch-2.log",
    "2026-12-02T08-08-03.891Z-watch-10.log",
    "2026-12-02T08-08-03.897Z-watch.log",
  ]);
});

Deno.test("oneLine: control characters in a name are written out, never sent to the terminal", () => {
  assert.equal(oneLine("plain/name.txt"), "plain/name.txt");
  assert.equal(oneLine("a\nb\rc"), "a\\nb\\rc");
  assert.equal(oneLine("evil\x1b]0;PWNED\x07\x1b[2J"), "evil\\u001b]0;PWNED\\u0007\\u001b[2J");
  assert.equal(oneLine("c1\x9bx del\x7f"), "c1\\u009bx del\\u007f");
  assert.equal(oneLine("tab\tstays é →"), "tab\tstays é →");
  assert.equal(oneLine("bidi\u202etxt.exe"), "bidi\\u202etxt.exe");
  // A backslash starts an escape, so it is one too: a name holding a backslash and an n
  // reads back apart from one holding a newline (but on Windows, where it separates folders).
  assert.equal(oneLine("a\\nb", "linux"), "a\\\\nb");
  assert.notEqual(oneLine("a\\nb", "darwin"), oneLine("a\nb", "darwin"));
  assert.equal(oneLine("e\\u001bx", "linux"), "e\\\\u001bx");
  assert.equal(oneLine("C:\\Users\\nick", "windows"), "C:\\Users\\nick");
  assert.equal(oneLine("C:\\a\nb", "windows"), "C:\\a\\nb");
});

Deno.test("RunLog.sync: what is buffered is written out before a commit, and stays the log's", () => {
  const dir = Deno.makeTempDirSync({ prefix: "runlog_test_" });
  try {
    const log = RunLog.open(dir, "run", new Date(Date.UTC(2026, 0, 1)));
    log.line("Run started: run (a test)");
    log.line("DELETE a.txt -> _deleted/a.txt");
    assert.equal(Deno.readTextFileSync(log.path), "", "buffered until written out");
    log.sync();
    assert.match(Deno.readTextFileSync(log.path), /Run started[^\n]*\n\S+ DELETE a\.txt[^\n]*\n$/);
    log.line("DELETE b.txt -> _deleted/b.txt");
    log.sync(); // the folder's entry once per file: a second sync only flushes
    assert.match(Deno.readTextFileSync(log.path), /DELETE b\.txt/);
    log.close();
    // A log_dir the run makes, folders above it too: their entries are flushed with the file's.
    const nested = RunLog.open(join(dir, "a", "b"), "run");
    nested.line("Run started: run (a test)");
    nested.sync();
    assert.match(Deno.readTextFileSync(nested.path), /Run started/);
    nested.close();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("RunLog.sync: its fdatasync is left out only after a flush of its file system that followed its last write", () => {
  const dir = Deno.makeTempDirSync({ prefix: "runlog_test_" });
  const proto = Deno.FsFile.prototype;
  const original = proto.syncDataSync;
  let syncs = 0;
  proto.syncDataSync = function (this: Deno.FsFile) {
    syncs++;
    return original.call(this);
  };
  try {
    const log = RunLog.open(dir, "run", new Date(Date.UTC(2026, 0, 1)));
    const dev = Deno.statSync(dir).dev;
    log.line("Run started: run (a test)");
    const before = log.written();
    assert.match(Deno.readTextFileSync(log.path), /Run started/, "written before the flush");
    log.sync({ dev, log: before }); // nothing written since: the flush took it
    assert.equal(syncs, 0);
    log.line("DELETE a.txt -> _deleted/a.txt"); // buffered after the flush
    log.sync({ dev, log: before });
    assert.equal(syncs, 1);
    const mark = log.written();
    log.line("DELETE b.txt -> _deleted/b.txt");
    log.flush(); // written after the flush began
    log.sync({ dev, log: mark });
    assert.equal(syncs, 2);
    const again = log.written();
    log.sync({ dev: dev === null ? null : dev + 1, log: again }); // another file system
    log.sync({ dev: null, log: again }); // one not known
    log.sync();
    assert.equal(syncs, 5);
    assert.match(Deno.readTextFileSync(log.path), /DELETE a\.txt[^\n]*\n\S+ DELETE b\.txt/);
    log.close();
  } finally {
    proto.syncDataSync = original;
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("LogError: a log that cannot be written or flushed is said as the log's problem, with its remedy", () => {
  const full = new LogError(
    "Cannot flush the log '/l/x.log' to disk",
    new Error("No space left on device (os error 28)"),
  );
  assert.equal(
    full.message,
    "Cannot flush the log '/l/x.log' to disk: No space left on device (os error 28): its disk " +
      "is full: free space there, or set log_dir to a folder on another disk",
  );
  const failing = new LogError("Cannot write the log '/l/x.log'", new Error("Input/output error"));
  assert.match(failing.message, /: check that disk, or set log_dir to a folder on another disk$/);
});

Deno.test("logsNaming and isRunLogFile: a backup root with a backslash is found in logs of either escaping", () => {
  if (Deno.build.os === "windows") return; // a backslash separates folders there
  const dir = Deno.makeTempDirSync({ prefix: "runlog_test_" });
  try {
    const owner = join(dir, "bk\\root");
    const first = (named: string) =>
      `2026-12-01T00:00:00.000Z Run started: run for backup root '${named}'\n`;
    // Written before backslashes were escaped, and since.
    Deno.writeTextFileSync(join(dir, "2026-12-01T00-00-00.000Z-run.log"), first(owner));
    Deno.writeTextFileSync(join(dir, "2026-12-02T00-00-00.000Z-run.log"), first(oneLine(owner)));
    Deno.writeTextFileSync(
      join(dir, "2026-12-03T00-00-00.000Z-run.log"),
      first(join(dir, "other")),
    );
    assert.deepEqual(logsNaming(dir, owner), [
      "2026-12-01T00-00-00.000Z-run.log",
      "2026-12-02T00-00-00.000Z-run.log",
    ]);
    assert.ok(isRunLogFile(join(dir, "2026-12-01T00-00-00.000Z-run.log"), owner));
    assert.ok(!isRunLogFile(join(dir, "2026-12-03T00-00-00.000Z-run.log"), owner));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("readOneLine: what oneLine wrote reads back to the name (Linux, macOS)", () => {
  for (
    const name of [
      "plain",
      "a\nb",
      "a\\nb",
      "back\\slash",
      "e\x1bx",
      "tab\tkept",
      "\\\\",
      "x\\u0041",
      "bidi\u202e",
    ]
  ) {
    assert.equal(readOneLine(oneLine(name, "linux")), name, JSON.stringify(name));
  }
  // A backslash oneLine did not write stays.
  assert.equal(readOneLine("a\\qb"), "a\\qb");
});
