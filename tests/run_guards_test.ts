/**
 * End-to-end tests of what stops or holds back a run, through the real CLI: configuration
 * errors and a state folder that cannot be made (exit 2, nothing made), a held lock (exit
 * 3; a dead holder's taken over), the mass-deletion guard (unless --force), an unreadable
 * file (exit 1, its backup kept), a backup root whose backup is gone while the logs name it
 * (a disk not mounted: exit 2, nothing made), and a damaged state moved aside as its
 * message says.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { listFiles, makeFixture, readTree } from "./helpers.ts";

Deno.test("configuration errors exit 2 and create nothing", async () => {
  using fx = makeFixture({ "a.txt": "a" }, { retention: { max_versions_per_file: 0 } });
  const r = await fx.cli("run");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /retention\.max_versions_per_file/);
  assert.equal(r.stderr.trim().split("\n").length, 1);
  assert.deepEqual(listFiles(fx.dir), ["config.jsonc", "source/a.txt"]);
});

Deno.test("a backup root whose state folder cannot be made: exit 2 naming that folder", async () => {
  using fx = makeFixture({ "a.txt": "a" });
  Deno.mkdirSync(join(fx.backup, ".backup-tool"), { recursive: true });
  Deno.writeTextFileSync(join(fx.backup, ".backup-tool", "tmp"), "not a folder");
  const r = await fx.cli("run");
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /^Cannot use the backup root '.*': '\.backup-tool\/tmp' is a file, where this tool keeps a folder of its own: move it out of the backup root, then run again\n$/,
  );
  assert.equal(r.stderr.trim().split("\n").length, 1);
});

Deno.test("a second run while the lock is held exits 3; a dead holder's lock is taken over", async () => {
  using fx = makeFixture({ "a.txt": "a" });
  assert.equal((await fx.cli("run")).code, 0);
  const lockPath = join(fx.backup, ".backup-tool", "lock");
  {
    using held = Deno.openSync(lockPath, { read: true, write: true });
    held.lockSync(true);
    const r = await fx.cli("run");
    assert.equal(r.code, 3);
    assert.match(r.stderr, /another run holds/);
    held.unlockSync();
  }
  Deno.writeTextFileSync(lockPath, JSON.stringify({ pid: 999999, host: "gone", started: "x" }));
  const r = await fx.cli("run");
  assert.equal(r.code, 0, r.stderr);
  assert.ok(fx.lastLog().some((l) => l.startsWith("LOCK: took over a stale lock")));
});

Deno.test("the mass-deletion guard holds back deletions unless --force", async () => {
  using fx = makeFixture({ "a": "1", "b": "2", "c": "3", "d": "4" });
  assert.equal((await fx.cli("run")).code, 0);
  for (const n of ["a", "b", "c", "d"]) Deno.removeSync(join(fx.source, n));
  const held = await fx.cli("run");
  assert.equal(held.code, 1);
  assert.match(held.stderr, /Deletions held back: 4 of 4 tracked files/);
  assert.deepEqual(Object.keys(readTree(fx.backup)), ["a", "b", "c", "d"]);
  const forced = await fx.cli("run", "--force");
  assert.equal(forced.code, 0, forced.stderr);
  assert.deepEqual(Object.keys(readTree(fx.backup)), [
    "_deleted/a",
    "_deleted/b",
    "_deleted/c",
    "_deleted/d",
  ]);
});

Deno.test("an unreadable file is reported with exit 1 and its backup is kept", async () => {
  if (Deno.uid() === 0) return; // root reads everything; tests/reliability covers this unprivileged
  using fx = makeFixture({ "a.txt": "a", "b.txt": "b" });
  assert.equal((await fx.cli("run")).code, 0);
  Deno.writeTextFileSync(join(fx.source, "a.txt"), "changed");
  Deno.chmodSync(join(fx.source, "a.txt"), 0);
  const r = await fx.cli("run");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /source\/a\.txt/);
  assert.equal(readTree(fx.backup)["a.txt"], "a");
});

Deno.test("a backup root whose backup is gone while the logs name it (a disk not mounted): refused, exit 2, nothing made", async () => {
  using fx = makeFixture({ "a.txt": "a\n" });
  assert.equal((await fx.cli("run")).code, 0);
  const logs = [...Deno.readDirSync(fx.logs)].map((e) => e.name);
  // Not even a log file made and removed again: log_dir is left as it was, its time too.
  const logDirTime = Deno.statSync(fx.logs).mtime?.getTime();
  for (const gone of ["removed", "emptied"]) {
    if (gone === "removed") Deno.removeSync(fx.backup, { recursive: true });
    else Deno.mkdirSync(fx.backup); // an empty mount point
    for (const command of ["run", "watch", "plan"]) { // the plan refuses what the run would
      const r = await fx.cli(command);
      assert.equal(r.code, 2, `${gone} ${command}: ${r.stdout}${r.stderr}`);
      assert.equal(
        r.stderr,
        `Cannot back up to '${fx.backup}': it holds no backup, but a log in '${fx.logs}' ` +
          `records earlier runs into it (the newest: '${logs[0]}'): is its disk mounted? ` +
          "Mount it and run again; to start a new backup there instead, move those logs out " +
          "of log_dir first\n",
      );
      if (gone === "removed") assert.throws(() => Deno.lstatSync(fx.backup), Deno.errors.NotFound);
      else assert.deepEqual([...Deno.readDirSync(fx.backup)], []);
      assert.deepEqual([...Deno.readDirSync(fx.logs)].map((e) => e.name), logs);
      assert.equal(Deno.statSync(fx.logs).mtime?.getTime(), logDirTime, `${gone} ${command}`);
    }
  }
  // Its logs moved away, a new backup starts there.
  Deno.renameSync(fx.logs, join(fx.dir, "old-logs"));
  assert.equal((await fx.cli("run")).code, 0);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt")), "a\n");
});

Deno.test("a backup root whose backup is gone while logs of a version that named no root record runs (before 2026-12-03): refused, exit 2, nothing made", async () => {
  using fx = makeFixture({ "a.txt": "a\n" });
  assert.equal((await fx.cli("run")).code, 0);
  const [log] = [...Deno.readDirSync(fx.logs)].map((e) => e.name);
  // Its first line as those versions wrote it: `Run started: run (run 1, pid 7)`, no root.
  const path = join(fx.logs, log);
  const text = Deno.readTextFileSync(path);
  Deno.writeTextFileSync(path, text.replace(/ for backup root '[^\n]*'\n/, "\n"));
  assert.doesNotMatch(Deno.readTextFileSync(path).split("\n")[0], /backup root/);
  Deno.removeSync(fx.backup, { recursive: true }); // the disk not mounted
  for (const command of ["run", "watch", "plan"]) {
    const r = await fx.cli(command);
    assert.equal(r.code, 2, `${command}: ${r.stdout}${r.stderr}`);
    assert.equal(
      r.stderr,
      `Cannot back up to '${fx.backup}': it holds no backup, but a log in '${fx.logs}' ` +
        "records earlier runs, by a version from before 2026-12-03 that did not name their " +
        `backup root (the newest: '${log}'): is its disk mounted? Mount it and run again; ` +
        "to start a new backup there instead, move those logs out of log_dir first\n",
    );
    assert.throws(() => Deno.lstatSync(fx.backup), Deno.errors.NotFound);
    assert.deepEqual([...Deno.readDirSync(fx.logs)].map((e) => e.name), [log]);
  }
  // The readers say the same, not to run a backup first, which run refuses there.
  for (const command of ["verify", "history"]) {
    const r = await fx.cli(command);
    assert.equal(r.code, 2, `${command}: ${r.stdout}${r.stderr}`);
    assert.equal(
      r.stderr,
      `Cannot read backup '${fx.backup}': it holds no backup, but a log in '${fx.logs}' ` +
        "records earlier runs, by a version from before 2026-12-03 that did not name their " +
        `backup root (the newest: '${log}'): is its disk mounted? Mount it and run again\n`,
    );
  }
  Deno.renameSync(fx.logs, join(fx.dir, "old-logs"));
  assert.equal((await fx.cli("run")).code, 0);
});

Deno.test("a new job whose log_dir holds another job's logs of a version that named no root (before 2026-12-03), of other sources: its first run backs up, exit 0", async () => {
  using fx = makeFixture({ "a.txt": "a\n" }, { sources: ["./photos"] });
  Deno.renameSync(fx.source, join(fx.dir, "photos"));
  // Logs as bd407c4 wrote them, of a job backing up a source named 'source'.
  const old = join(Deno.cwd(), "testdata", "old_roots", "bd407c4", "logs");
  Deno.mkdirSync(fx.logs);
  for (const e of Deno.readDirSync(old)) {
    Deno.copyFileSync(join(old, e.name), join(fx.logs, e.name));
  }
  const r = await fx.cli("run");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt")), "a\n");
  // The same logs where this job backs up a source of that name: refused, as before.
  using same = makeFixture({ "a.txt": "a\n" });
  Deno.mkdirSync(same.logs);
  for (const e of Deno.readDirSync(old)) {
    Deno.copyFileSync(join(old, e.name), join(same.logs, e.name));
  }
  const refused = await same.cli("run");
  assert.equal(refused.code, 2, refused.stdout);
  assert.match(
    refused.stderr,
    /by a version from before 2026-12-03 .*\(the newest: '2026-12-05T10-07-56\.373Z-run\.log'\)/,
  );
});

Deno.test("a damaged state moved aside, as its message says: the next run starts a new state beside the files", async () => {
  using fx = makeFixture({ "a.txt": "a\n" });
  assert.equal((await fx.cli("run")).code, 0);
  const db = join(fx.backup, ".backup-tool", "state.db");
  Deno.writeTextFileSync(db, "not a database\n".repeat(300));
  const refused = await fx.cli("run");
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /or move it aside: the next run then starts a new state/);
  Deno.renameSync(db, `${db}.damaged`);
  const r = await fx.cli("run");
  assert.equal(r.code, 0, r.stderr); // not taken for a disk that is not mounted
  assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt")), "a\n");
});
