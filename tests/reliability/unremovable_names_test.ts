/**
 * Names that cannot be removed, for real: with `chattr` (as root), a temporary file made
 * immutable, or a folder that lets names in but none out, as a file another program holds
 * open does on Windows. A stuck temporary file is logged and left; a staged copy is in place
 * once linked; a move of a stored copy is done or not begun, a copy left at both names is
 * moved on by the next run; no version is ever lost or misrecorded; an old log stuck in
 * log_dir does not stop the rotation of the others. Skipped, with a message, where chattr
 * cannot set these flags.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, makeFixture } from "../helpers.ts";
import { listDir, pausedRun, runTool, sh } from "./util.ts";
import { whyNoChattr } from "./chattr.ts";

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

/**
 * Runs `run` with its staging folder letting names in but none out (chattr +a) from just
 * after the session's look at it (which refuses the flag it sees: staging_folder.ts), as a
 * staged copy another program holds open is on Windows, where no look refuses it.
 */
async function runStagingAppendOnly(fx: Fixture) {
  const tmp = join(fx.backup, ".backup-tool", "tmp");
  await using run = await pausedRun(["run", "--config", fx.config], "claimed:1", fx.dir);
  await sh(`chattr +a '${tmp}'`);
  try {
    run.resume();
    const out = await run.child.output();
    return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
  } finally {
    await sh(`chattr -a '${tmp}'`);
  }
}

/** Version 1 of `a.txt`, restored into a fresh folder. */
async function restoredV1(fx: Fixture): Promise<string> {
  const to = join(fx.dir, "v1");
  assert.equal((await fx.cli("restore", "a.txt", "--version", "1", "--to", to)).code, 0);
  return Deno.readTextFileSync(join(to, "a.txt"));
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
    const r = await runStagingAppendOnly(fx);
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
    const r = await runStagingAppendOnly(fx);
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

Deno.test({
  name: "an old log that cannot be removed (immutable) is left; log rotation goes on past it",
  ignore: noChattr,
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a" }, { log_retention: 2 });
    assert.equal((await fx.cli("run")).code, 0);
    // A log kept on purpose (chattr +i), or another user's in a sticky log_dir.
    const [first] = listDir(fx.logs);
    const stuck = join(fx.logs, first);
    await sh(`chattr +i '${stuck}'`);
    try {
      for (let i = 0; i < 5; i++) {
        const r = await fx.cli("run", "-q");
        assert.equal(r.code, 0, r.stderr);
      }
      // The two newest and the one left: no more, however many runs follow.
      const logs = listDir(fx.logs);
      assert.equal(logs.length, 3, logs.join(", "));
      assert.ok(logs.includes(first));
      const lines = fx.logLines();
      assert.ok(
        lines.some((l) => l.startsWith(`LOG ROTATE failed: cannot remove '${first}': `)),
        lines.join("\n"),
      );
      assert.ok(fx.lastLog().some((l) => l.startsWith("LOG ROTATE delete: ")));
    } finally {
      await sh(`chattr -i '${stuck}'`);
    }
  },
});
