/**
 * A backup root or a source moved as users move them: the backup disk copied onto a bigger
 * one (`rsync -S`, which makes holes of zeros), the backup root read or written by another
 * user than its owner (a new computer, where the same person has another uid), a source
 * copied or restored to another folder or disk (every file another inode), a source given
 * another name in the config at the same folder. What each must not do: hold less room
 * than it says, mislead, or read or copy everything again unsaid.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { copiedInPlace, MAIN, makeFixture, poll, trustRecords, writeConfig } from "./helpers.ts";
import { DEADLINE_MS, WatchProcess } from "./watch_helpers.ts";
import { asNobody, NOBODY, prepareDenoDir, sh } from "./reliability/util.ts";

const RESERVE = ".backup-tool/reserve";

Deno.test("a copy of the backup root that made the reserve sparse (rsync -S): the next run makes its 8 MiB whole again", async () => {
  using fx = makeFixture({ "a.txt": "a\n" });
  assert.equal((await fx.cli("run")).code, 0);
  const reserve = join(fx.backup, RESERVE);
  // As `rsync -S` or `cp --sparse=always` leave a reserve of zeros: its length, no block.
  Deno.removeSync(reserve);
  Deno.writeFileSync(reserve, new Uint8Array(0), { mode: 0o644 });
  Deno.truncateSync(reserve, 8 << 20);
  const sparse = Deno.statSync(reserve).blocks;
  if (sparse === null || sparse * 512 >= 8 << 20) return; // a file system without holes

  const r = await fx.cli("run");
  assert.equal(r.code, 0, r.stderr);
  const info = Deno.statSync(reserve);
  assert.equal(info.size, 8 << 20);
  assert.ok(info.blocks! * 512 >= 8 << 20, `the reserve holds ${info.blocks! * 512} bytes`);
});

Deno.test("the reserve is written with bytes a copy making holes of zeros keeps whole", async () => {
  using fx = makeFixture({ "a.txt": "a\n" });
  assert.equal((await fx.cli("run")).code, 0);
  using f = Deno.openSync(join(fx.backup, RESERVE));
  const head = new Uint8Array(4096);
  f.readSync(head);
  assert.ok(head.some((b) => b !== 0), "the reserve's first 4 KiB are all zeros");
});

Deno.test("a backup root another user made (0700), run by this one: says whose it is and how to make it yours, not that the state folder cannot be made", async () => {
  using fx = makeFixture({ "a.txt": "a\n" });
  const denoDir = join(fx.dir, "deno-dir");
  const prefix = asNobody(denoDir);
  if (typeof prefix === "string") return console.log(`SKIP another user's backup root: ${prefix}`);
  assert.equal((await fx.cli("run")).code, 0); // the backup root: root's, 0700
  await prepareDenoDir(denoDir);
  // The same person on a new computer, under another uid: the sources and logs are theirs.
  await sh(`chown -R ${NOBODY}:${NOBODY} '${fx.source}' && chmod 755 '${fx.dir}'`);
  for (const command of ["run", "watch"]) {
    const stderr = await refused(prefix, command, fx.config);
    assert.doesNotMatch(stderr, /Cannot create the state folder/);
    assert.match(stderr, /^Cannot use the backup root '.*backup': Permission denied/);
    assert.match(stderr, new RegExp(remedy(fx.backup, "0700")), stderr);
  }
  // One it may enter but not write (0755): its lock cannot be opened, said so too.
  Deno.chmodSync(fx.backup, 0o755);
  const stderr = await refused(prefix, "run", fx.config);
  assert.match(
    stderr,
    /^Cannot lock backup root: cannot open '.*lock' to write: Permission denied/,
  );
  assert.match(stderr, new RegExp(remedy(fx.backup, "0755")), stderr);
});

Deno.test({
  name:
    "a backup root another user owns on a disk mounted read-only, run by root: says the disk refused, not to chown it to root",
  ignore: Deno.build.os !== "linux" || Deno.uid() !== 0, // mount --bind needs root
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n" });
    assert.equal((await fx.cli("run")).code, 0);
    const empty = join(fx.dir, "empty");
    Deno.mkdirSync(empty);
    await sh(`chown -R ${NOBODY}:${NOBODY} '${fx.backup}' '${empty}'`);
    // An empty root (its state folder cannot be made), then one with a backup (its lock).
    for (const [folder, what] of [[empty, "create the state folder"], [fx.backup, "lock"]]) {
      const view = join(fx.dir, "view");
      Deno.mkdirSync(view);
      await sh(`mount --bind '${folder}' '${view}' && mount -o remount,ro,bind '${view}'`);
      try {
        writeConfig(fx.config, { sources: ["./source"], backup_root: "./view", log_dir: "./logs" });
        const r = await fx.cli("run");
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, new RegExp(`^Cannot ${what} .*Read-only file system`), r.stderr);
        assert.doesNotMatch(r.stderr, /not this user's|chown/, r.stderr);
      } finally {
        await sh(`umount '${view}'`);
        Deno.removeSync(view);
      }
    }
  },
});

/** The stderr of `command` run through `prefix` (as nobody), which must be refused (exit 2). */
async function refused(prefix: string[], command: string, config: string): Promise<string> {
  const line = [...prefix, Deno.execPath(), "run", "-A", MAIN, command, "--config", config];
  const out = await new Deno.Command(line[0], {
    args: line.slice(1),
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 2, stderr);
  return stderr;
}

/** What a run said to another user's backup root is told to do: whose it is, and how. */
function remedy(root: string, mode: string): string {
  return `: it is uid 0's \\(mode ${mode}\\), not this user's \\(uid ${NOBODY}\\): run as a ` +
    "user who can write it \\(its owner, or root through sudo\\); where it is your own backup " +
    "from another computer, where you had another uid, make it yours: " +
    `sudo chown -R ${NOBODY}:${NOBODY} '${root}'\n$`;
}

Deno.test("a source whose files are other files of the same contents (copied, restored): the run that reads them all again says why, and copies nothing", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "d/b.txt": "bb\n", "d/c.txt": "ccc\n" });
  assert.equal((await fx.cli("run")).code, 0);
  trustRecords(fx.backup);
  copiedInPlace(fx.source);

  for (const command of ["plan", "run"]) {
    const r = await fx.cli(command);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /: 0 new, 0 updated, 0 duplicate, 3 unchanged, 0 deleted/);
    assert.match(
      r.stdout,
      /^3 unchanged file\(s\) \(9 B\) were read again: they are other files than the last run saw \(another inode or device: copied, restored, or their disk mounted anew\), holding the contents backed up$/m,
    );
  }
  assert.ok(
    fx.lastLog().some((l) => /^READ AGAIN: 3 unchanged file\(s\) \(9 B\): other files/.test(l)),
    fx.lastLog().join("\n"),
  );
  const json = JSON.parse((await fx.cli("run", "--json")).stdout);
  assert.equal(json.reread, undefined); // the run after reads none again
  const again = await fx.cli("run");
  assert.doesNotMatch(again.stdout, /read again/);

  trustRecords(fx.backup);
  copiedInPlace(fx.source);
  const doc = JSON.parse((await fx.cli("run", "--json")).stdout);
  assert.deepEqual(doc.reread, { files: 3, bytes: 9 });
});

Deno.test("a source given another name in the config, at the same folder: plan and run say it is the old source's folder, stored anew, and how to go on with its backup", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "d/b.txt": "bb\n" });
  assert.equal((await fx.cli("run")).code, 0);
  writeConfig(fx.config, {
    sources: [{ path: "./source", name: "mine" }],
    backup_root: "./backup",
    log_dir: "./logs",
  });
  const note = new RegExp(
    `^Note: source 'mine' is the folder source 'source' was backed up from ` +
      `\\('${fx.source}'\\): a source's name ties it to its files, so its files are ` +
      `backed up anew under 'mine', beside the 2 files of 'source' \\(kept as they are, no ` +
      `longer followed\\); to go on with the backup of 'source' instead, give it back its ` +
      `name \\("name": "source"\\)$`,
    "m",
  );
  for (const command of ["plan", "run"]) {
    const r = await fx.cli(command);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, note);
    assert.doesNotMatch(r.stdout, /a source folder renamed/);
  }
});

Deno.test("a backup disk mounted at another place than the config says (DISK1, not DISK): every command says it holds no backup there, that logs record runs into it, and where a backup is, not to run a backup first", async () => {
  using fx = makeFixture({ "a.txt": "a\n" }, { backup_root: "./media/u/DISK/backup" });
  assert.equal((await fx.cli("run")).code, 0);
  const media = join(fx.dir, "media", "u");
  Deno.renameSync(join(media, "DISK"), join(media, "DISK1"));
  const was = join(media, "DISK", "backup");
  const now = join(media, "DISK1", "backup");
  const where = `; a backup is at '${now}': if its disk is mounted there now, point ` +
    "backup_root at it";
  const run = await fx.cli("run");
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /^Cannot back up to '.*': it holds no backup, but a log in /);
  assert.ok(run.stderr.endsWith(`${where}\n`), run.stderr);
  for (const args of [["verify"], ["history"], ["restore", "--to", join(fx.dir, "out")]]) {
    const r = await fx.cli(...args);
    assert.equal(r.code, 2, `${args[0]}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /run a backup first/);
    assert.equal(
      r.stderr,
      `Cannot read backup '${was}': it holds no backup, but a log in '${fx.logs}' records ` +
        `earlier runs into it: is its disk mounted? Mount it and run again${where}\n`,
    );
  }
});

Deno.test("a watch started after its source's files became other files of the same contents: its first pass says it read them again, and why", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "d/b.txt": "bb\n" });
  assert.equal((await fx.cli("run")).code, 0);
  trustRecords(fx.backup);
  copiedInPlace(fx.source);
  await using w = new WatchProcess(fx);
  await w.ready();
  const exit = await w.stop();
  assert.equal(exit.code, 0, exit.stderr);
  assert.match(
    w.stdout,
    /full pass \(start\): 0 new, 0 updated, 0 deleted; 2 unchanged file\(s\) \(5 B\) were read again: they are other files than the last run saw/,
  );
  assert.ok(
    fx.logLines().some((l) => /^READ AGAIN: 2 unchanged file\(s\) \(5 B\): other files/.test(l)),
    fx.logLines().join("\n"),
  );
});

Deno.test("a watched file replaced by another file of the same contents and time (rsync -a, mv from another disk): the event's pass says it read it again, on its line and in the log", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "b.txt": "b\n" });
  assert.equal((await fx.cli("run")).code, 0);
  trustRecords(fx.backup);
  await using w = new WatchProcess(fx);
  await w.ready();
  // As rsync -a restores it: a copy beside it, its mode and time as they were, renamed over.
  const path = join(fx.source, "a.txt");
  const info = Deno.statSync(path);
  Deno.copyFileSync(path, join(fx.source, ".a.txt.tmp"));
  Deno.utimeSync(join(fx.source, ".a.txt.tmp"), info.atime!, info.mtime!);
  Deno.renameSync(join(fx.source, ".a.txt.tmp"), path);
  await poll(
    "the event's pass",
    () => /1 unchanged file\(s\) \(2 B\) were read again/.test(w.stdout),
    DEADLINE_MS,
  );
  const exit = await w.stop();
  assert.equal(exit.code, 0, exit.stderr);
  assert.ok(
    fx.logLines().some((l) => /^READ AGAIN: 1 unchanged file\(s\) \(2 B\): other files/.test(l)),
    fx.logLines().join("\n"),
  );
});
