/**
 * End-to-end tests of what a run stores and where, through the real CLI: copies keep mtime
 * and mode, symlinks stay symlinks, FIFOs are skipped; source entries named like the
 * backup's own folders are escaped; a backup root inside the source, or a killed restore's
 * temporary file, is never backed up; each source gets its own folder; the backup root
 * and log folder a run makes are its owner's only, and nothing it makes there is writable
 * by others, whatever the umask.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  listFiles,
  makeFixture,
  readTree,
  runProgram,
  toolCommand,
  writeConfig,
  writeTree,
} from "./helpers.ts";

Deno.test({
  name: "copies keep mtime and mode; symlinks stay symlinks; FIFOs are skipped",
  ignore: Deno.build.os === "windows", // no FIFOs, no modes there
  fn: async () => {
    using fx = makeFixture({ "script.sh": "#!/bin/sh\n", "data.txt": "x" });
    const when = new Date("2020-01-02T03:04:05.678Z");
    Deno.chmodSync(join(fx.source, "script.sh"), 0o750);
    Deno.utimeSync(join(fx.source, "data.txt"), when, when);
    Deno.symlinkSync("data.txt", join(fx.source, "link"));
    Deno.symlinkSync("/nonexistent/outside", join(fx.source, "dangling"));
    const fifo = await new Deno.Command("mkfifo", { args: [join(fx.source, "pipe")] }).output();
    const r = await fx.cli("run");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(Deno.statSync(join(fx.backup, "script.sh")).mode! & 0o777, 0o750);
    assert.equal(Deno.statSync(join(fx.backup, "data.txt")).mtime?.getTime(), when.getTime());
    assert.equal(Deno.readLinkSync(join(fx.backup, "link")), "data.txt");
    assert.equal(Deno.readLinkSync(join(fx.backup, "dangling")), "/nonexistent/outside");
    if (fifo.success) {
      assert.ok(fx.lastLog().includes("SKIP SPECIAL: source/pipe (FIFO, not a regular file)"));
      assert.ok(!listFiles(fx.backup).includes("pipe"));
    }
  },
});

Deno.test("source entries named like the backup's own folders are escaped, never mixed", async () => {
  using fx = makeFixture({
    "versions/x.txt": "mine",
    "_deleted/y.txt": "mine too",
    "_duplicates": "a file",
    ".backup-tool/z": "not the state",
    "versions~/w.txt": "already tilde",
  });
  const r = await fx.cli("run");
  assert.equal(r.code, 0, r.stderr);
  const tree = readTree(fx.backup);
  assert.equal(tree["versions~/x.txt"], "mine");
  assert.equal(tree["_deleted~/y.txt"], "mine too");
  assert.equal(tree["_duplicates~"], "a file");
  assert.equal(tree["versions~~/w.txt"], "already tilde");
  assert.equal(Deno.readTextFileSync(join(fx.backup, ".backup-tool~", "z")), "not the state");
  assert.ok(!Object.keys(tree).some((p) => p.startsWith("versions/")));
});

Deno.test("a backup root inside the source is never backed up into itself", async () => {
  using fx = makeFixture({ "a.txt": "a" }, { backup_root: "./source/backup" });
  for (let i = 0; i < 2; i++) assert.equal((await fx.cli("run")).code, 0);
  const backup = join(fx.source, "backup");
  assert.deepEqual(readTree(backup), { "a.txt": "a" });
});

Deno.test("a temporary file left by a killed restore is never backed up", async () => {
  using fx = makeFixture({
    "a.txt": "a",
    "d/.backup-tool-restore-4242-1.tmp": "half of a restored file",
    "d/.backup-tool-restore-notes.tmp": "a user's file with a similar name",
  });
  const plan = await fx.cli("plan", "--json");
  assert.deepEqual(JSON.parse(plan.stdout).actions.map((a: { path: string }) => a.path), [
    "source/a.txt",
    "source/d/.backup-tool-restore-notes.tmp",
  ]);
  assert.equal((await fx.cli("run")).code, 0);
  assert.deepEqual(Object.keys(readTree(fx.backup)).sort(), [
    "a.txt",
    "d/.backup-tool-restore-notes.tmp",
  ]);
});

Deno.test("several sources each get their own folder; adding one moves nothing", async () => {
  using fx = makeFixture({ "a.txt": "a" });
  assert.equal((await fx.cli("run")).code, 0);
  writeTree(join(fx.dir, "photos"), { "p.jpg": "jpeg" });
  const cfg = JSON.parse(Deno.readTextFileSync(fx.config));
  cfg.sources.push({ path: "./photos", name: "photos" });
  Deno.writeTextFileSync(fx.config, JSON.stringify(cfg));
  const r = await fx.cli("run");
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readTree(fx.backup), { "_sources/photos/p.jpg": "jpeg", "a.txt": "a" });
});

Deno.test({
  name: "the backup root and log folder a run creates are its owner's only, and its logs; " +
    "a root that exists keeps its mode",
  ignore: Deno.build.os === "windows", // no POSIX permission bits there
  fn: async () => {
    using fx = makeFixture({ "private/config": "readable by all in a private folder\n" });
    Deno.chmodSync(join(fx.source, "private"), 0o700);
    assert.equal((await fx.cli("run")).code, 0);
    assert.equal(Deno.statSync(fx.backup).mode! & 0o777, 0o700);
    // The log names private files too.
    assert.equal(Deno.statSync(fx.logs).mode! & 0o777, 0o700);
    for (const log of Deno.readDirSync(fx.logs)) {
      assert.equal(Deno.statSync(join(fx.logs, log.name)).mode! & 0o777, 0o600, log.name);
    }

    using shared = makeFixture({ "a.txt": "a\n" });
    Deno.mkdirSync(shared.backup, { mode: 0o755 });
    Deno.chmodSync(shared.backup, 0o755); // whatever the umask
    assert.equal((await shared.cli("run")).code, 0);
    assert.equal(Deno.statSync(shared.backup).mode! & 0o777, 0o755);
  },
});

Deno.test({
  name: "under umask 000, nothing a run makes in the backup root is writable by others",
  ignore: Deno.build.os === "windows", // no POSIX permission bits there
  fn: async () => {
    // A job started with umask 000 (a unit's UMask=0000, a crontab's `umask 0`), its backup
    // root a disk's mount point, which other users may enter (0755).
    using fx = makeFixture({ "a.txt": "a\n", "d/e/b.txt": "b\n", "d/e/c.txt": "c\n" });
    const root = join(fx.dir, "disk", "hosts", "backup");
    writeConfig(fx.config, { sources: ["./source"], backup_root: root, log_dir: "./logs" });
    Deno.mkdirSync(join(fx.dir, "disk"), { mode: 0o755 });
    Deno.chmodSync(join(fx.dir, "disk"), 0o755);
    const run = async (...args: string[]) => {
      const { cmd, args: full } = toolCommand([...args, "--config", fx.config]);
      const r = await runProgram("sh", ["-c", 'umask 000 && exec "$0" "$@"', cmd, ...full]);
      assert.equal(r.code, 0, r.stderr);
    };
    await run("run");
    writeTree(fx.source, { "a.txt": "a2\n" }); // versions/a.txt/v1.bak
    Deno.removeSync(join(fx.source, "d"), { recursive: true }); // _deleted/d/e/…
    await run("run", "--force");
    const open: string[] = [];
    const look = (path: string) => {
      const info = Deno.lstatSync(path);
      if ((info.mode! & 0o022) !== 0) open.push(`${path} ${(info.mode! & 0o777).toString(8)}`);
      if (info.isDirectory) { for (const e of Deno.readDirSync(path)) look(join(path, e.name)); }
    };
    look(join(fx.dir, "disk", "hosts"));
    assert.deepEqual(open, []);
    assert.ok(Deno.statSync(join(root, "_deleted", "d", "e", "b.txt")).isFile);
    assert.ok(Deno.statSync(join(root, "versions", "a.txt", "v1.bak")).isFile);
  },
});

Deno.test({
  name: "a run narrows the tool's own entries others could write (an older version's under " +
    "umask 000), and says so in its log; the mirror's are left as they are",
  ignore: Deno.build.os === "windows", // no POSIX permission bits there
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n", "d/b.txt": "b\n" });
    assert.equal((await fx.cli("run", "-q")).code, 0);
    // As a version before 2026-12-05 left them under umask 000.
    const own = join(fx.backup, ".backup-tool");
    const wide: [string, number][] = [
      [own, 0o777],
      [join(own, "tmp"), 0o777],
      [join(own, "lock"), 0o666],
      [join(own, "reserve"), 0o666],
      [join(fx.backup, "d"), 0o777],
      [join(fx.backup, "a.txt"), 0o666],
    ];
    for (const [path, mode] of wide) Deno.chmodSync(path, mode);
    const run = await fx.cli("run", "-q");
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "");
    const modes = wide.map(([path]) => (Deno.statSync(path).mode! & 0o777).toString(8));
    assert.deepEqual(modes, ["755", "755", "644", "644", "777", "666"]);
    const said = fx.lastLog().filter((l) => l.startsWith("MODE: "));
    assert.deepEqual(said, [
      `MODE: narrowed '${own}' from 0777 to 0755: group or others could write it (older ` +
      "versions made it so under a umask such as 000)",
      `MODE: narrowed '${join(own, "tmp")}' from 0777 to 0755: group or others could write ` +
      "it (older versions made it so under a umask such as 000)",
      `MODE: narrowed '${join(own, "lock")}' from 0666 to 0644: group or others could write ` +
      "it (older versions made it so under a umask such as 000)",
      `MODE: narrowed '${join(own, "reserve")}' from 0666 to 0644: group or others could ` +
      "write it (older versions made it so under a umask such as 000)",
    ]);
    // Said once: the next run has nothing to narrow.
    assert.equal((await fx.cli("run", "-q")).code, 0);
    assert.ok(!fx.lastLog().some((l) => l.startsWith("MODE: ")), fx.lastLog().join("\n"));
  },
});
