/**
 * Permission errors, for real: root reads everything, so (when the suite runs as root, as
 * CI does) the CLI runs as the unprivileged user `nobody` via setpriv or runuser, on a
 * fixture owned by that user. An unreadable file and an unreadable folder are reported
 * (exit 1) and their earlier copies are kept where they are: not archived as deleted, not
 * replaced. An unreadable source root stops the run before anything changes (exit 2).
 * Skipped, with a message, when not root or when neither tool exists.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  DEAD_HOLDER_RECORD,
  type Fixture,
  loggedDeadHolderTakeover,
  makeFixture,
} from "../helpers.ts";
import {
  asNobody,
  assertConverged,
  checkBackup,
  isRoot,
  listDir,
  NOBODY,
  prepareDenoDir,
  readState,
  runTool,
  sh,
  snapshot,
  type ToolResult,
  which,
} from "./util.ts";

interface Unprivileged {
  fx: Fixture;
  run(...args: string[]): Promise<ToolResult>;
  /** The CLI as nobody, without the fixture's `--config`. */
  bare(...args: string[]): Promise<ToolResult>;
  /** `bare`, run from the folder `cwd`. */
  bareIn(cwd: string, ...args: string[]): Promise<ToolResult>;
}

async function unprivileged(
  tree: Record<string, string>,
  body: (u: Unprivileged) => Promise<void>,
): Promise<void> {
  using fx = makeFixture(tree);
  const denoDir = join(fx.dir, "deno-dir");
  const prefix = asNobody(denoDir);
  if (typeof prefix === "string") {
    console.log(`SKIP permission tests: ${prefix}`);
    return;
  }
  if (!Deno.env.get("BACKUP_TOOL_BIN")) await prepareDenoDir(denoDir);
  await sh(`chown -R ${NOBODY}:${NOBODY} '${fx.dir}' && chmod 755 '${fx.dir}'`);
  const bareIn = (cwd: string, ...args: string[]) =>
    runTool(args, { prefix, timeoutMs: 60_000, cwd });
  const bare = (...args: string[]) => runTool(args, { prefix, timeoutMs: 60_000 });
  const run = (...args: string[]) => bare(...args, "--config", fx.config);
  const probe = await run("--version");
  if (probe.code !== 0) {
    console.log(`SKIP permission tests: the tool does not start as nobody: ${probe.stderr}`);
    return;
  }
  await body({ fx, run, bare, bareIn });
}

Deno.test("unreadable file and folder (as nobody): reported, exit 1, earlier copies kept", async () => {
  await unprivileged({
    "a.txt": "readable\n",
    "secret.txt": "secret v1\n",
    "private/p1.txt": "private one\n",
    "private/sub/p2.txt": "private two\n",
    "other/o.txt": "other\n",
  }, async ({ fx, run }) => {
    const first = await run("run");
    assert.equal(first.code, 0, `${first.stdout}\n${first.stderr}`);
    const captured = [...snapshot(fx.source).values()].map((s) => s.hash);
    const before = readState(fx.backup).files.map((f) => f.path);

    Deno.writeTextFileSync(join(fx.source, "secret.txt"), "secret v2, unreadable\n");
    Deno.chmodSync(join(fx.source, "secret.txt"), 0o000);
    Deno.writeTextFileSync(join(fx.source, "new-secret.txt"), "never readable\n");
    Deno.chmodSync(join(fx.source, "new-secret.txt"), 0o000);
    Deno.chmodSync(join(fx.source, "private"), 0o000);
    Deno.writeTextFileSync(join(fx.source, "a.txt"), "readable, changed\n");
    await sh(`chown -R ${NOBODY}:${NOBODY} '${fx.source}'`);

    const plan = await run("plan", "--json");
    assert.equal(plan.code, 1, plan.stderr);
    assert.equal(JSON.parse(plan.stdout).counts.delete, 0, "plan: nothing counts as deleted");

    const r = await run("run");
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    for (const name of ["secret.txt", "new-secret.txt", "private"]) {
      assert.match(r.stderr, new RegExp(`ERROR: source/${name}: .*(ermission|denied)`), r.stderr);
    }
    assert.doesNotMatch(r.stderr, /Backup failed/);
    const check = checkBackup(fx.backup);
    assert.deepEqual(check.problems, []);
    // Still tracked, still at their latest location, nothing archived as deleted.
    assert.deepEqual(check.state.files.map((f) => f.path), before);
    assert.deepEqual(listDir(join(fx.backup, "_deleted")), []);
    assert.equal(Deno.readTextFileSync(join(fx.backup, "secret.txt")), "secret v1\n");
    assert.equal(Deno.readTextFileSync(join(fx.backup, "private/sub/p2.txt")), "private two\n");
    assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt")), "readable, changed\n");
    for (const h of captured) assert.ok(check.contents.has(h), `earlier content lost: ${h}`);

    // Readable again: the next run picks everything up.
    Deno.chmodSync(join(fx.source, "secret.txt"), 0o644);
    Deno.chmodSync(join(fx.source, "new-secret.txt"), 0o644);
    Deno.chmodSync(join(fx.source, "private"), 0o755);
    const after = await run("run");
    assert.equal(after.code, 0, `${after.stdout}\n${after.stderr}`);
    assertConverged(fx, captured, "after permissions were restored");
  });
});

Deno.test("unreadable source root (as nobody): exit 2, the backup is not touched", async () => {
  await unprivileged({ "a.txt": "a\n", "b/c.txt": "c\n" }, async ({ fx, run }) => {
    const first = await run("run");
    assert.equal(first.code, 0, first.stderr);
    const before = snapshot(fx.backup, [".backup-tool"]);
    const logs = [...Deno.readDirSync(fx.logs)].length;
    Deno.chmodSync(fx.source, 0o000);
    try {
      const r = await run("run");
      assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, /Cannot read source/);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    } finally {
      Deno.chmodSync(fx.source, 0o755);
    }
    assert.deepEqual(snapshot(fx.backup, [".backup-tool"]), before);
    assert.equal([...Deno.readDirSync(fx.logs)].length, logs, "no log file for a refused run");
    assert.equal(readState(fx.backup).files.length, 2);
  });
});

Deno.test("unwritable log_dir or backup root (as nobody): exit 2, nothing created", async () => {
  await unprivileged({ "a.txt": "a\n" }, async ({ fx, run }) => {
    for (const key of ["log_dir", "backup_root"]) {
      const locked = join(fx.dir, `locked-${key}`);
      Deno.mkdirSync(locked, { mode: 0o755 }); // owned by root: nobody cannot write in it
      Deno.chmodSync(locked, 0o755);
      const cfg = JSON.parse(Deno.readTextFileSync(fx.config));
      Deno.writeTextFileSync(fx.config, JSON.stringify({ ...cfg, [key]: join(locked, "x") }));
      const r = await run("run");
      assert.equal(r.code, 2, `${key}: ${r.stdout}\n${r.stderr}`);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(
        r.stderr,
        key === "log_dir"
          ? /^Cannot write a log file in log_dir/
          : /^Cannot create the backup root/,
      );
      assert.deepEqual(listDir(locked), [], key);
      assert.deepEqual(listDir(fx.backup), [], `${key}: the backup root was created`);
      assert.deepEqual(listDir(fx.logs), [], `${key}: a log was left`);
      assert.throws(() => Deno.lstatSync(fx.logs), Deno.errors.NotFound, `${key}: log_dir made`);
      Deno.writeTextFileSync(fx.config, JSON.stringify(cfg));
    }
  });
});

Deno.test("unwritable log_dir (as nobody) after a killed run: exit 2, the lock file as it was, the next run logs the takeover", async () => {
  await unprivileged({ "a.txt": "a\n" }, async ({ fx, run }) => {
    assert.equal((await run("run")).code, 0);
    const lock = join(fx.backup, ".backup-tool", "lock");
    const record = DEAD_HOLDER_RECORD;
    Deno.writeTextFileSync(lock, record);
    const mtime = Deno.statSync(lock).mtime?.getTime();
    await sh(`chown root:root '${fx.logs}' && chmod 755 '${fx.logs}'`);
    const r = await run("run");
    assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /^Cannot write a log file in log_dir/);
    assert.equal(Deno.readTextFileSync(lock), record, "the dead run's record was lost");
    assert.equal(Deno.statSync(lock).mtime?.getTime(), mtime);
    await sh(`chown -R ${NOBODY}:${NOBODY} '${fx.logs}'`);
    assert.equal((await run("run")).code, 0);
    assert.ok(
      loggedDeadHolderTakeover(fx.lastLog()),
      fx.lastLog().join("\n"),
    );
  });
});

Deno.test("a backup root nobody may enter: plan, history, verify and restore exit 2 with one line", async () => {
  await unprivileged({ "a.txt": "a\n" }, async ({ fx, run, bare }) => {
    assert.equal((await fx.cli("run")).code, 0); // as root: the root is root's only (0700)
    for (const args of [["plan"], ["history", "a.txt"], ["verify"]]) {
      const r = await run(...args);
      assert.equal(r.code, 2, `${args[0]}: ${r.stdout}\n${r.stderr}`);
      assert.match(
        r.stderr,
        /^Cannot read backup '.*': .*: run as a user who can read the backup root\n$/,
      );
    }
    // Read with --backup-root (the computer lost): the folder given is the right one, and
    // is not said to hold no backup (until 2026-12-05 it was, with the remedy to give the
    // folder holding '.backup-tool', which it is).
    const to = join(fx.dir, "out");
    for (const args of [["history"], ["verify"], ["restore", "--to", to]]) {
      const r = await bare(...args, "--backup-root", fx.backup);
      assert.equal(r.code, 2, `${args[0]}: ${r.stdout}\n${r.stderr}`);
      assert.equal(
        r.stderr,
        `Cannot read backup '${fx.backup}': Permission denied (os error 13): stat ` +
          `'${join(fx.backup, ".backup-tool", "state.db")}': run as a user who can read the ` +
          "backup root\n",
      );
    }
    assert.ok(!listDir(fx.dir).includes("out"), "restore made its --to");
    // And one it may read but not write: run changes nothing (exit 2), the lock names why.
    await sh(`chmod -R a+rX '${fx.backup}' && chown -R ${NOBODY} '${fx.logs}'`);
    const r = await run("run");
    assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
    assert.match(
      r.stderr,
      /^Cannot lock backup root: cannot open .*: it and the backup root must be writable by the user running this tool\n$/,
    );
    // A --to it cannot make: one line, exit 2, not a line for each file.
    const rootOnly = join(fx.dir, "root-only", "out");
    Deno.mkdirSync(join(fx.dir, "root-only"), { mode: 0o755 });
    const restore = await run("restore", "--to", rootOnly);
    assert.equal(restore.code, 2, `${restore.stdout}\n${restore.stderr}`);
    assert.match(
      restore.stderr,
      /^Cannot restore into '.*out': .*: choose a folder you can write to\n$/,
    );
  });
});

Deno.test("a state file nobody may read, or only read (as nobody): every command exits 2 naming it, nothing made", async () => {
  await unprivileged({ "a.txt": "a\n" }, async ({ fx, run }) => {
    assert.equal((await fx.cli("run")).code, 0); // as root
    const db = join(fx.backup, ".backup-tool", "state.db");
    await sh(`chmod -R a+rwX '${fx.backup}' && chown -R ${NOBODY} '${fx.logs}'`);
    // Readable by root only: the readers (plan too) say so, exit 2.
    Deno.chmodSync(db, 0o600);
    for (const args of [["plan"], ["plan", "--json"], ["history", "a.txt"], ["verify"]]) {
      const r = await run(...args);
      assert.equal(r.code, 2, `${args}: ${r.stdout}\n${r.stderr}`);
      assert.equal(r.stdout, "");
      assert.ok(r.stderr.startsWith(`Cannot read backup state '${db}': `), r.stderr);
      assert.match(r.stderr, /: run as a user who can read it\n$/);
    }
    // Readable, not writable: run says it cannot write it (not "Backup failed", exit 1).
    Deno.chmodSync(db, 0o644);
    Deno.writeTextFileSync(join(fx.source, "b.txt"), "b\n");
    const before = snapshot(fx.backup);
    const r = await run("run");
    assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
    assert.ok(r.stderr.startsWith(`Cannot write backup state '${db}': `), r.stderr);
    assert.match(r.stderr, /run as the user who owns the backup root/);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.deepEqual(snapshot(fx.backup), before, "the backup root changed");
  });
});

Deno.test("a restore in place (as nobody, --backup-root) into a folder it may not make: each line says to restore with --to", async () => {
  await unprivileged({ "a.txt": "a\n", "d/b.txt": "b\n" }, async ({ fx, bare }) => {
    assert.equal((await fx.cli("run")).code, 0); // as root, who backed the computer up
    // The computer lost: its source folder gone, its parent another user's, the backup
    // made readable to all.
    Deno.removeSync(fx.source, { recursive: true });
    const mine = join(fx.dir, "mine");
    Deno.mkdirSync(mine);
    await sh(
      `chmod -R a+rX '${fx.backup}' && chown ${NOBODY} '${mine}' && ` +
        `chown root:root '${fx.dir}' && chmod 755 '${fx.dir}'`,
    );
    const r = await bare("restore", "--backup-root", fx.backup);
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 2, r.stderr);
    for (const line of lines) {
      // Until 2026-12-05 the lines ended at the folder, naming no way out.
      assert.match(
        line,
        new RegExp(
          `^NOT RESTORED: source/(a|d/b)\\.txt \\(v1\\): Cannot create folder '${fx.source}(/d)?': ` +
            `.*: restore with --to a folder you can write to, or as a user who can write there$`,
        ),
      );
    }
    const to = join(mine, "restored");
    const again = await bare("restore", "--backup-root", fx.backup, "--to", to);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(Deno.readTextFileSync(join(to, "d", "b.txt")), "b\n");
  });
});

Deno.test("verify --repair --backup-root (as nobody) from a folder it may not write in: exit 2, says to run it elsewhere", async () => {
  await unprivileged({ "a.txt": "a\n" }, async ({ fx, run, bareIn }) => {
    assert.equal((await run("run")).code, 0);
    const here = join(fx.dir, "here");
    Deno.mkdirSync(here);
    await sh(`chown root:root '${here}' && chmod 755 '${here}'`);
    const before = snapshot(fx.backup);
    const r = await bareIn(here, "verify", "--repair", "--backup-root", fx.backup);
    assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
    // Until 2026-12-05 it said 'log_dir', a key of a config there is none of, and to check
    // the path and its permissions.
    const logs = join(here, "logs");
    assert.equal(
      r.stderr.trim(),
      `Cannot write the repair's log in '${logs}': Permission denied (os error 13): mkdir ` +
        `'${logs}': run it from a folder you may write in: with --backup-root its log goes to ` +
        "./logs there",
    );
    assert.deepEqual(snapshot(fx.backup), before, "the backup as it was");
    const elsewhere = join(fx.dir, "elsewhere");
    Deno.mkdirSync(elsewhere);
    await sh(`chown ${NOBODY} '${elsewhere}'`);
    const again = await bareIn(elsewhere, "verify", "--repair", "--backup-root", fx.backup);
    assert.equal(again.code, 0, again.stderr);
  });
});

Deno.test("a log_dir nobody may reach: history, verify and restore need none and work; run and plan say so (exit 2)", async () => {
  await unprivileged({ "a.txt": "a\n" }, async ({ fx, run }) => {
    const hidden = join(fx.dir, "root-only");
    Deno.mkdirSync(hidden, { mode: 0o700 }); // owned by root: nobody cannot enter it
    const cfg = JSON.parse(Deno.readTextFileSync(fx.config));
    Deno.writeTextFileSync(fx.config, JSON.stringify({ ...cfg, log_dir: join(hidden, "logs") }));
    assert.equal((await fx.cli("run")).code, 0); // as root
    await sh(`chmod -R a+rX '${fx.backup}'`);
    const to = join(fx.dir, "out");
    await sh(`mkdir '${to}' && chown ${NOBODY} '${to}'`);
    const cases = [["history", "a.txt"], ["verify"], ["restore", "--to", to]];
    for (const args of cases) {
      const r = await run(...args);
      assert.equal(r.code, 0, `${args}: ${r.stdout}\n${r.stderr}`);
    }
    assert.equal(Deno.readTextFileSync(join(to, "a.txt")), "a\n");
    await sh(`chmod -R a+w '${fx.backup}'`);
    for (const command of ["run", "plan"]) { // a plan refuses what the run would
      const r = await run(command);
      assert.equal(r.code, 2, `${command}: ${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, /^Cannot load config .*'log_dir' .* cannot be accessed: /);
    }
  });
});

Deno.test("a state folder nobody may enter (as nobody): run exits 2 naming it, no log left", async () => {
  await unprivileged({ "a.txt": "a\n" }, async ({ fx, run }) => {
    assert.equal((await fx.cli("run")).code, 0); // as root: .backup-tool is root's
    const stateDir = join(fx.backup, ".backup-tool");
    await sh(
      `chmod 777 '${fx.backup}' && chmod 700 '${stateDir}' && chown -R ${NOBODY} '${fx.logs}'`,
    );
    const logs = listDir(fx.logs);
    const r = await run("run");
    assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
    assert.match(
      r.stderr,
      /^Cannot (lock backup root|create the state folder).*: Permission denied/,
    );
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.deepEqual(listDir(fx.logs), logs, "a log was left");
  });
});

/** A fixture whose `a.txt` was backed up as "old content" and now holds "new content". */
async function modifiedFixture(): Promise<Fixture> {
  const fx = makeFixture({ "a.txt": "old content\n" });
  assert.equal((await fx.cli("run")).code, 0);
  Deno.writeTextFileSync(join(fx.source, "a.txt"), "new content\n");
  return fx;
}

/**
 * Runs `run` while `dir` lets names in but none out (chattr +a), as a file another program
 * holds open does on Windows.
 */
async function runAppendOnly(fx: Fixture, dir: string) {
  await sh(`chattr +a '${dir}'`);
  try {
    return await fx.cli("run");
  } finally {
    await sh(`chattr -a '${dir}'`);
  }
}

/** Version 1 of `a.txt`, restored into a fresh folder. */
async function restoredV1(fx: Fixture): Promise<string> {
  const to = join(fx.dir, "v1");
  assert.equal((await fx.cli("restore", "a.txt", "--version", "1", "--to", to)).code, 0);
  return Deno.readTextFileSync(join(to, "a.txt"));
}

/**
 * Why `chattr` cannot set these flags here, or undefined where it can: root and the tool
 * are not enough, the temporary folder's file system must keep the flags (an older
 * kernel's tmpfs does not), and root needs CAP_LINUX_IMMUTABLE, which a container's lacks
 * by default: tried once, on a folder of its own, so that such a machine skips these tests.
 */
async function whyNoChattr(): Promise<string | undefined> {
  if (!isRoot()) return "not running as root";
  if (which("chattr") === undefined) return "chattr is missing (apt install e2fsprogs)";
  const dir = Deno.makeTempDirSync({ prefix: "bt-chattr-" });
  try {
    await sh(`chattr +a '${dir}' && chattr -a '${dir}'`);
    return undefined;
  } catch (e) {
    return `chattr +a fails in the temporary folder: ${(e as Error).message.trim()}`;
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}
const NO_CHATTR = await whyNoChattr();
if (NO_CHATTR) console.log(`SKIP chattr tests: ${NO_CHATTR}`);
const noChattr = NO_CHATTR !== undefined;

Deno.test({
  name: "a temporary file that cannot be removed (immutable) is logged and left; the run goes on",
  ignore: noChattr,
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a" });
    assert.equal((await fx.cli("run")).code, 0);
    // What a killed run left, held the way an antivirus holds a file open on Windows.
    const stuck = join(fx.backup, ".backup-tool", "tmp", "1-7.tmp");
    Deno.writeTextFileSync(stuck, "partial");
    await sh(`chattr +i '${stuck}'`);
    try {
      Deno.writeTextFileSync(join(fx.source, "b.txt"), "b");
      const r = await fx.cli("run");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(Deno.readTextFileSync(join(fx.backup, "b.txt")), "b");
      assert.ok(
        fx.lastLog().some((l) => l.startsWith(`CLEANUP: cannot remove '${stuck}'`)),
        fx.lastLog().join("\n"),
      );
    } finally {
      await sh(`chattr -i '${stuck}'`);
    }
  },
});

Deno.test({
  name:
    "a staged copy whose temporary name cannot be removed is in place all the same; no version is lost",
  ignore: noChattr,
  fn: async () => {
    using fx = await modifiedFixture();
    const tmp = join(fx.backup, ".backup-tool", "tmp");
    const r = await runAppendOnly(fx, tmp);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt")), "new content\n");
    assert.equal(
      Deno.readTextFileSync(join(fx.backup, "versions", "a.txt", "v1.bak")),
      "old content\n",
    );
    assert.equal(listDir(tmp).length, 1); // the staged name, left for the next session
    assert.equal((await fx.cli("verify")).code, 0);
    assert.equal((await fx.cli("run")).code, 0);
    assert.deepEqual(listDir(tmp), []);
    assert.equal(await restoredV1(fx), "old content\n");
  },
});

Deno.test({
  name:
    "recovery of a copy linked in place but not unlinked, its staged name held: done, nothing misrecorded",
  ignore: noChattr,
  fn: async () => {
    using fx = await modifiedFixture();
    // Killed after the old copy was archived, before the new one was placed...
    const killed = await runTool(["run", "--config", fx.config], {
      env: { BACKUP_TOOL_FAULT: "archived:1" },
    });
    assert.equal(killed.code, 137, killed.stderr);
    // ...then as a kill between link and unlink leaves it: both names on the staged copy.
    const tmp = join(fx.backup, ".backup-tool", "tmp");
    const [staged] = listDir(tmp);
    Deno.linkSync(join(tmp, staged), join(fx.backup, "a.txt"));
    const r = await runAppendOnly(fx, tmp);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt")), "new content\n");
    assert.equal((await fx.cli("verify")).code, 0);
    assert.equal(await restoredV1(fx), "old content\n");
  },
});

Deno.test({
  name:
    "an old copy that cannot leave its name is not archived: the step fails, nothing is left half-moved",
  ignore: noChattr,
  fn: async () => {
    using fx = await modifiedFixture();
    // The old copy can be linked into versions/, not unlinked from its own name.
    const r = await runAppendOnly(fx, fx.backup);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /the old name cannot be removed: /);
    assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt")), "old content\n");
    assert.deepEqual(listDir(join(fx.backup, "versions")), []); // no link, no empty folder
    assert.equal((await fx.cli("verify")).code, 0);
    assert.equal((await fx.cli("run")).code, 0);
    assert.equal(
      Deno.readTextFileSync(join(fx.backup, "versions", "a.txt", "v1.bak")),
      "old content\n",
    );
  },
});

Deno.test({
  name:
    "a copy left at both names by a failed move is moved on that name by the next run, no stray",
  ignore: noChattr,
  fn: async () => {
    using fx = makeFixture({ "a.txt": "A1\n" });
    assert.equal((await fx.cli("run")).code, 0);
    Deno.writeTextFileSync(join(fx.source, "a.txt"), "A2\n");
    assert.equal((await fx.cli("run")).code, 0);
    Deno.writeTextFileSync(join(fx.source, "a.txt"), "A3\n");
    // Neither the old name nor, to undo the link, the new one can be removed.
    const versions = join(fx.backup, "versions", "a.txt");
    await sh(`chattr +a '${versions}'`);
    let r;
    try {
      r = await runAppendOnly(fx, fx.backup);
    } finally {
      await sh(`chattr -a '${versions}'`);
    }
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /it is now at both names/);
    assert.equal((await fx.cli("run")).code, 0);
    assert.deepEqual(listDir(versions).sort(), ["v1.bak", "v2.bak"]);
    assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt")), "A3\n");
    assert.equal(Deno.lstatSync(join(versions, "v2.bak")).nlink, 1);
    const verify = await fx.cli("verify");
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    const to = join(fx.dir, "v2");
    assert.equal((await fx.cli("restore", "a.txt", "--version", "2", "--to", to)).code, 0);
    assert.equal(Deno.readTextFileSync(join(to, "a.txt")), "A2\n");
  },
});

Deno.test({
  name:
    "an archived copy that cannot be put back from its archive name is back at its own all the same",
  ignore: noChattr,
  fn: async () => {
    using fx = makeFixture({ "a.txt": "A1\n", "b.txt": "BBB\n", "c.txt": "BBB\n" });
    assert.equal((await fx.cli("run")).code, 0);
    Deno.writeTextFileSync(join(fx.source, "a.txt"), "A2\n");
    assert.equal((await fx.cli("run")).code, 0);
    // a.txt becomes a duplicate: its new copy goes to _duplicates/, which takes nothing
    // in (immutable), and its archived copy cannot leave versions/ again.
    Deno.writeTextFileSync(join(fx.source, "a.txt"), "BBB\n");
    const dups = join(fx.backup, "_duplicates");
    const versions = join(fx.backup, "versions", "a.txt");
    await sh(`chattr +i '${dups}'`);
    let r;
    try {
      r = await runAppendOnly(fx, versions);
    } finally {
      await sh(`chattr -i '${dups}'`);
    }
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /Cannot place '_duplicates\/a\.txt'/);
    assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt")), "A2\n");
    // The next run archives it on the name it was left at, records nothing as lost.
    const next = await fx.cli("run");
    assert.equal(next.code, 0, next.stderr);
    assert.doesNotMatch(next.stderr, /lost/);
    assert.deepEqual(listDir(versions).sort(), ["v1.bak", "v2.bak"]);
    assert.equal((await fx.cli("verify")).code, 0);
    const to = join(fx.dir, "v2");
    assert.equal((await fx.cli("restore", "a.txt", "--version", "2", "--to", to)).code, 0);
    assert.equal(Deno.readTextFileSync(join(to, "a.txt")), "A2\n");
  },
});

Deno.test("a stored copy nobody can read (as nobody): verify --repair makes it again, keeps it aside, and restore works", async () => {
  await unprivileged({ "a.txt": "a\n", "b.txt": "b\n" }, async ({ fx, run }) => {
    assert.equal((await run("run")).code, 0);
    Deno.chmodSync(join(fx.backup, "a.txt"), 0o000);
    const repair = await run("verify", "--repair");
    assert.equal(repair.code, 0, repair.stdout + repair.stderr);
    assert.match(
      repair.stdout,
      /REPAIRED: a\.txt .* from source\/a\.txt; the damaged copy is kept/,
    );
    assert.match(repair.stdout, /Repair: 1 repaired, 0 not repaired/);
    const out = join(fx.dir, "out");
    assert.equal((await run("restore", "a.txt", "--to", out)).code, 0);
    assert.equal(Deno.readTextFileSync(join(out, "a.txt")), "a\n");
    assert.equal((await run("verify")).code, 0);
  });
});

Deno.test("a restore into a folder nobody may write in (as nobody): the folder is named, with the remedy, not a temporary file", async () => {
  await unprivileged({ "a.txt": "a\n", "d/x.txt": "x\n" }, async ({ fx, run }) => {
    assert.equal((await run("run")).code, 0);
    const out = join(fx.dir, "out");
    Deno.mkdirSync(join(out, "d"), { recursive: true });
    await sh(`chown -R ${NOBODY}:${NOBODY} '${out}' && chmod 555 '${join(out, "d")}'`);
    const r = await run("restore", "--to", out);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(Deno.readTextFileSync(join(out, "a.txt")), "a\n");
    assert.equal(
      r.stderr.trim(),
      `NOT RESTORED: source/d/x.txt (v1): Cannot write in '${join(out, "d")}': permission ` +
        "denied: make it writable, or restore with --to a folder you can write to",
    );
    assert.deepEqual(listDir(join(out, "d")), []);
  });
});

Deno.test("verify --repair (as nobody): an unreadable copy nothing else holds is said to be perhaps intact", async () => {
  await unprivileged({ "a.txt": "a\n", "b.txt": "b\n" }, async ({ fx, run }) => {
    assert.equal((await run("run")).code, 0);
    Deno.removeSync(join(fx.source, "a.txt")); // only the copy in _deleted/ holds it now
    assert.equal((await run("run")).code, 0);
    const copy = join(fx.backup, "_deleted", "a.txt");
    Deno.chmodSync(copy, 0o000);
    const r = await run("verify", "--repair");
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(
      r.stderr,
      /^NOT REPAIRED: _deleted\/a\.txt .*; the copy itself could not be read \(.*\): if only its permissions were changed, give them back and verify again$/m,
    );
    Deno.chmodSync(copy, 0o644);
    assert.equal((await run("verify")).code, 0, "intact once its mode is given back");
    // A folder of copies it may not enter: counted in the repair's last line, not "0, 0".
    const folder = join(fx.backup, "_deleted");
    Deno.chmodSync(folder, 0o000);
    try {
      const blocked = await run("verify", "--repair");
      assert.equal(blocked.code, 1, `${blocked.stdout}\n${blocked.stderr}`);
      assert.match(blocked.stderr, /^UNREADABLE: _deleted: /m);
      assert.match(
        blocked.stdout,
        /^Repair: 0 repaired, 0 not repaired, 0 unknown file\(s\), 1 unreadable \(see above\)$/m,
      );
    } finally {
      Deno.chmodSync(folder, 0o755);
    }
  });
});
