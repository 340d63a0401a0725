/**
 * `purge PATH...`: the stored copies of a file no run backs up any more (excluded now, or
 * deleted from the source) are listed without --yes, changing nothing, and deleted with
 * it, each logged, recorded purged (history, restore --at), verify clean and the next run
 * a no-op; a file still backed up is refused (exit 2), a held lock is exit 3, a purged
 * original's duplicate is promoted by the next run, and a purge killed mid-way is
 * finished by the next run.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  fingerprint,
  type Fixture,
  listFiles,
  makeFixture,
  runCli,
  writeConfig,
  writeTree,
} from "./helpers.ts";

const BASE = { sources: ["./source"], backup_root: "./backup", log_dir: "./logs" };

function exclude(fx: Fixture, patterns: string[]): void {
  writeConfig(fx.config, { ...BASE, exclude: patterns });
}

async function run(fx: Fixture): Promise<void> {
  const r = await fx.cli("run");
  assert.equal(r.code, 0, r.stdout + r.stderr);
}

/**
 * `.env` backed up with four contents: v1 to versions/, v2 to _deleted/ (the file deleted,
 * then made again), v3 to versions/, v4 current; then excluded. `moments[i]`: a time at
 * which content i+1 was current.
 */
async function envWithHistory(fx: Fixture): Promise<string[]> {
  const moments: string[] = [];
  await run(fx);
  moments.push(new Date().toISOString());
  writeTree(fx.source, { ".env": "SECRET=2\n" });
  await run(fx);
  moments.push(new Date().toISOString());
  Deno.removeSync(join(fx.source, ".env"));
  await run(fx);
  writeTree(fx.source, { ".env": "SECRET=3\n" });
  await run(fx);
  moments.push(new Date().toISOString());
  writeTree(fx.source, { ".env": "SECRET=4\n" });
  await run(fx);
  exclude(fx, [".env"]);
  await run(fx);
  return moments;
}

const ENV_COPIES = ["versions/.env/v1.bak", "_deleted/.env", "versions/.env/v3.bak", ".env"];

Deno.test("purge lists an excluded file's copies without --yes, and deletes them with it", async () => {
  using fx = makeFixture({ ".env": "SECRET=1\n", "a.txt": "a\n", "d/b.txt": "b\n" });
  const moments = await envWithHistory(fx);
  assert.deepEqual(
    listFiles(fx.backup).filter((f) => !f.startsWith(".backup-tool/")),
    ["_deleted/.env", ".env", "a.txt", "d/b.txt", "versions/.env/v1.bak", "versions/.env/v3.bak"]
      .sort(),
  );

  // Without --yes: each copy listed, the total, and nothing changed, not even a log.
  const before = fingerprint(fx.backup);
  const logsBefore = listFiles(fx.logs);
  const listed = await fx.cli("purge", ".env");
  assert.equal(listed.code, 0, listed.stderr);
  const lines = listed.stdout.trim().split("\n");
  assert.deepEqual(
    lines.slice(0, -1).map((l) => l.split(" ")[1]).sort(),
    [...ENV_COPIES].sort(),
  );
  assert.match(
    lines.at(-1)!,
    /^Purge would delete 4 stored copies of 1 file \(36 B\); nothing was deleted: run the same purge again with --yes/,
  );
  assert.deepEqual(fingerprint(fx.backup), before);
  assert.deepEqual(listFiles(fx.logs), logsBefore);

  // With --yes: exactly its copies go, each logged once.
  const purged = await fx.cli("purge", ".env", "--yes");
  assert.equal(purged.code, 0, purged.stdout + purged.stderr);
  assert.deepEqual(
    listFiles(fx.backup).filter((f) => !f.startsWith(".backup-tool/")),
    ["a.txt", "d/b.txt"],
  );
  // Emptied folders go too, as retention's do.
  for (const gone of ["versions", "_deleted"]) {
    assert.throws(() => Deno.lstatSync(join(fx.backup, gone)), Deno.errors.NotFound);
  }
  const log = fx.lastLog();
  assert.deepEqual(
    log.filter((l) => l.startsWith("PURGE delete: ")).map((l) => l.slice(14)).sort(),
    [...ENV_COPIES].sort(),
  );
  assert.ok(log.some((l) => l.startsWith("Run started: purge ")), log.join("\n"));
  assert.match(purged.stdout, /Purge complete: 4 stored copies purged \(36 B\), 0 failed/);

  // history: each content purged; the runs list shows the purge as its own kind.
  const history = await fx.cli("history", ".env");
  assert.equal(history.code, 0, history.stderr);
  assert.equal(history.stdout.match(/purged by 'purge' at /g)?.length, 4, history.stdout);
  const runs = await fx.cli("history", "--json");
  const kinds = JSON.parse(runs.stdout).runs.map((r: { command: string }) => r.command);
  assert.equal(kinds.at(-1), "purge");
  assert.equal(JSON.parse(runs.stdout).runs.at(-1).counts.prune, 4);

  // restore --at a moment it existed: it says purged, and restores the rest.
  const to = join(fx.dir, "r");
  const restore = await fx.cli("restore", "--at", moments[0], "--to", to);
  assert.equal(restore.code, 1, restore.stdout + restore.stderr);
  assert.match(restore.stderr, /version 1 was purged at .*: its copy no longer exists/);
  assert.deepEqual(listFiles(to), ["a.txt", "d/b.txt"]);
  // Its latest: said purged, not deleted with a version to give instead.
  const latest = await fx.cli("restore", ".env", "--to", join(fx.dir, "r2"));
  assert.equal(latest.code, 1);
  assert.match(
    latest.stderr,
    /'source\/.env' is not in the backup any more: it was purged at .* \(backup-tool purge\): no copy of it is left/,
  );

  const verify = await fx.cli("verify");
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  const next = await fx.cli("run", "--json");
  assert.equal(next.code, 0, next.stderr);
  const { skip, ...others } = JSON.parse(next.stdout).counts;
  assert.equal(skip, 2);
  assert.ok(Object.values(others).every((n) => n === 0), next.stdout);
  assert.deepEqual(
    listFiles(fx.backup).filter((f) => !f.startsWith(".backup-tool/")),
    ["a.txt", "d/b.txt"],
  );
});

Deno.test("purge of a deleted file deletes its _deleted/ copy; no exclude is needed", async () => {
  using fx = makeFixture({ "big.img": "x".repeat(100), "a.txt": "a\n" });
  await run(fx);
  Deno.removeSync(join(fx.source, "big.img"));
  await run(fx);
  assert.ok(listFiles(fx.backup).includes("_deleted/big.img"));
  // Its copy's place in the backup root, as browsing it shows: the path to give instead.
  const copyPath = await fx.cli("purge", "_deleted/big.img", "--yes");
  assert.equal(copyPath.code, 2);
  assert.equal(
    copyPath.stderr,
    "Cannot purge '_deleted/big.img': nothing was ever backed up at 'source/_deleted/big.img': " +
      "it is where the backup keeps the last content of 'source/big.img' (number 1), deleted " +
      "from its source since: give that path; nothing was changed\n",
  );
  // The same, by its absolute path: purge takes no --version, so none is offered.
  const absolute = await fx.cli("purge", join(fx.backup, "_deleted", "big.img"));
  assert.equal(absolute.code, 2);
  assert.match(absolute.stderr, /deleted from its source since: give that path\n$/);
  const r = await fx.cli("purge", "big.img", "--yes", "--json");
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.deepEqual(doc.copies.map((c: { storedAt: string }) => c.storedAt), ["_deleted/big.img"]);
  assert.equal(doc.bytes, 100);
  assert.equal(doc.purged, true);
  assert.ok(!listFiles(fx.backup).includes("_deleted/big.img"));
  assert.equal((await fx.cli("verify")).code, 0);
});

Deno.test("a file, or a folder, deleted then purged: restore and ls name the purge's time, not the deletion's", async () => {
  using fx = makeFixture({
    "big.img": "x".repeat(100),
    "vm/disk.img": "y".repeat(50),
    "a.txt": "a\n",
    "b.txt": "b\n",
    "c.txt": "c\n",
  });
  await run(fx);
  Deno.removeSync(join(fx.source, "big.img"));
  Deno.removeSync(join(fx.source, "vm"), { recursive: true });
  await run(fx);
  await new Promise((r) => setTimeout(r, 20));
  const p = await fx.cli("purge", "big.img", "vm", "--yes");
  assert.equal(p.code, 0, p.stdout + p.stderr);
  const h = JSON.parse((await fx.cli("history", "big.img", "--json")).stdout);
  const purgedAt = h.versions[0].prunedAt;
  assert.notEqual(purgedAt, h.versions[0].replaced);
  const file = await fx.cli("restore", "big.img", "--to", join(fx.dir, "out"));
  assert.equal(file.code, 1);
  assert.match(file.stderr, new RegExp(`it was purged at ${purgedAt} \\(backup-tool purge\\)`));
  const folder = await fx.cli("ls", "vm");
  assert.equal(folder.code, 1);
  assert.match(
    folder.stderr,
    new RegExp(`its files were purged at ${purgedAt} \\(backup-tool purge\\)`),
  );
});

Deno.test("purge refuses a file still backed up, and a folder holding one (exit 2, nothing changed)", async () => {
  using fx = makeFixture({ "d/keep.txt": "k\n", "d/.env": "s\n" });
  await run(fx);
  exclude(fx, [".env"]);
  await run(fx);
  const before = fingerprint(fx.backup);
  const logsBefore = listFiles(fx.logs);
  for (const path of ["d/keep.txt", "d"]) {
    for (const yes of [[], ["--yes"]]) {
      const r = await fx.cli("purge", path, ...yes);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.equal(r.stdout, "");
      assert.equal(
        r.stderr,
        "Cannot purge 'source/d/keep.txt': it is still backed up: add it to exclude, or " +
          "delete it from the source and run, then purge; nothing was changed\n",
      );
    }
  }
  const never = await fx.cli("purge", "nothing.txt");
  assert.equal(never.code, 2);
  assert.match(never.stderr, /nothing was ever backed up at 'source\/nothing.txt'/);
  // Another letter case: the spelling recorded, as restore, ls and history say it.
  const upper = await fx.cli("purge", "D");
  assert.equal(upper.code, 2);
  assert.match(
    upper.stderr,
    /^Cannot purge 'D': nothing was ever backed up at 'source\/D': did you mean 'source\/d'\? .*; nothing was changed\n$/,
  );
  // A PATH given twice: the one never backed up is the one named.
  const twice = await fx.cli("purge", "d/.env", "d/.env", "nothing.txt");
  assert.equal(twice.code, 2);
  assert.match(twice.stderr, /^Cannot purge 'nothing.txt': nothing was ever backed up at/);
  assert.deepEqual(fingerprint(fx.backup), before);
  assert.deepEqual(listFiles(fx.logs), logsBefore);
});

Deno.test("purge of a file deleted from the source whose deletion a run held back says so, with the remedy", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "b.txt": "b\n" });
  await run(fx);
  Deno.removeSync(join(fx.source, "a.txt"));
  Deno.removeSync(join(fx.source, "b.txt"));
  assert.equal((await fx.cli("run")).code, 1); // the guard holds both deletions back
  const before = fingerprint(fx.backup);
  const r = await fx.cli("purge", "a.txt");
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr,
    "Cannot purge 'source/a.txt': it is gone from the source, but no run has archived its " +
      "deletion yet (deletions held back by safety.max_delete_percent?): run, with --force if " +
      "they are held back again, then purge; nothing was changed\n",
  );
  assert.deepEqual(fingerprint(fx.backup), before);
});

Deno.test("purge --yes takes the lock: exit 3 while a backup holds it", async () => {
  using fx = makeFixture({ ".env": "s\n" });
  await run(fx);
  exclude(fx, [".env"]);
  await run(fx);
  using held = Deno.openSync(join(fx.backup, ".backup-tool", "lock"), { read: true, write: true });
  held.lockSync(true);
  const r = await fx.cli("purge", ".env", "--yes");
  assert.equal(r.code, 3, r.stdout + r.stderr);
  assert.ok(listFiles(fx.backup).includes(".env"));
  assert.equal((await fx.cli("purge", ".env")).code, 0, "a listing takes no lock");
});

Deno.test("a purged original's duplicate is promoted by the next run; verify is clean", async () => {
  using fx = makeFixture({ "a.img": "same bytes\n", "b.img": "same bytes\n" });
  await run(fx);
  assert.ok(listFiles(fx.backup).includes("_duplicates/b.img"));
  exclude(fx, ["a.img"]);
  await run(fx);
  const r = await fx.cli("purge", "a.img", "--yes");
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.ok(!listFiles(fx.backup).includes("a.img"));
  const next = await fx.cli("run");
  assert.equal(next.code, 0, next.stdout + next.stderr);
  assert.ok(fx.lastLog().some((l) => l.startsWith("PROMOTED: ")), fx.lastLog().join("\n"));
  assert.equal(Deno.readTextFileSync(join(fx.backup, "b.img")), "same bytes\n");
  assert.equal((await fx.cli("verify")).code, 0);
  const again = await fx.cli("run", "--json");
  assert.equal(JSON.parse(again.stdout).counts.promote, 0);
});

Deno.test("a purge killed between two deletions is finished by the next run", async () => {
  using fy = makeFixture({ ".env": "1\n", "a.txt": "a\n" });
  await run(fy);
  writeTree(fy.source, { ".env": "2\n" });
  await run(fy);
  exclude(fy, [".env"]);
  await run(fy);
  const faulted = await runCli(["purge", ".env", "--yes", "--config", fy.config], {
    env: { BACKUP_TOOL_FAULT: "pruned:1" },
  });
  assert.equal(faulted.code, 137, faulted.stdout + faulted.stderr);
  const next = await fy.cli("run");
  assert.equal(next.code, 0, next.stdout + next.stderr);
  assert.deepEqual(
    listFiles(fy.backup).filter((f) => !f.startsWith(".backup-tool/")),
    ["a.txt"],
  );
  const log = fy.lastLog();
  assert.equal(log.filter((l) => l.startsWith("PURGE delete: ")).length, 2, log.join("\n"));
  const history = await fy.cli("history", ".env");
  assert.equal(history.stdout.match(/purged by 'purge'/g)?.length, 2, history.stdout);
  assert.equal((await fy.cli("verify")).code, 0);
});

Deno.test("purge leaves in place what stands where a copy of another kind was: a symlink for a file's, a file for a symlink's", async () => {
  using fx = makeFixture({ "f.txt": "file bytes\n", "g.txt": "g\n", "a.txt": "a\n" });
  Deno.symlinkSync("target-one", join(fx.source, "l1"));
  Deno.symlinkSync("target-two", join(fx.source, "l2"));
  await run(fx);
  exclude(fx, ["f.txt", "g.txt", "l1", "l2"]);
  await run(fx);
  // Put there by hand, none of them a copy of ours: a symlink for f.txt's file copy, a
  // file for l1's symlink copy, a symlink to another target for l2's.
  Deno.removeSync(join(fx.backup, "f.txt"));
  Deno.symlinkSync("g.txt", join(fx.backup, "f.txt"));
  Deno.removeSync(join(fx.backup, "l1"));
  Deno.writeTextFileSync(join(fx.backup, "l1"), "mine\n");
  Deno.removeSync(join(fx.backup, "l2"));
  Deno.symlinkSync("elsewhere", join(fx.backup, "l2"));
  const r = await fx.cli("purge", "f.txt", "g.txt", "l1", "l2", "--yes");
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.equal(Deno.readLinkSync(join(fx.backup, "f.txt")), "g.txt");
  assert.equal(Deno.readTextFileSync(join(fx.backup, "l1")), "mine\n");
  assert.equal(Deno.readLinkSync(join(fx.backup, "l2")), "elsewhere");
  assert.ok(!listFiles(fx.backup).includes("g.txt"), "g.txt's own copy is deleted");
  const log = fx.lastLog().filter((l) => l.startsWith("PURGE "));
  assert.deepEqual(log, [
    "PURGE forget: f.txt (no copy of ours there to delete: missing, or replaced by something left in place)",
    "PURGE delete: g.txt",
    "PURGE forget: l1 (no copy of ours there to delete: missing, or replaced by something left in place)",
    "PURGE forget: l2 (it holds other bytes than recorded for it: left in place)",
  ]);
  assert.match(r.stderr, /WARNING: source\/l2: The copy of its version 1, 'l2', no longer held/);
  // The bytes are those deleted: g.txt's only, not those of what was left in place.
  // Only g.txt's copy is deleted: the three others are left in place (before: '4 stored
  // copies purged').
  assert.match(
    r.stdout,
    /^Purge complete: 1 stored copy purged \(2 B\), 3 left in place \(something not the copy recorded stands there: see the log's PURGE forget lines\), 0 failed; log: /m,
  );
  assert.match(
    fx.lastLog().at(-1)!,
    /^Purge complete: 1 copy purged, 3 left in place \(not the copy\), 0 failed$/,
  );
});

Deno.test("purge refuses the whole backup with one source as with several: '.' or the source's name", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "d/b.txt": "b\n" });
  await run(fx);
  Deno.removeSync(join(fx.source, "a.txt"));
  Deno.removeSync(join(fx.source, "d"), { recursive: true });
  const cleared = await fx.cli("run", "--force");
  assert.equal(cleared.code, 0, cleared.stdout + cleared.stderr);
  const before = fingerprint(fx.backup);
  for (const whole of [".", "source", "./"]) {
    for (const yes of [[], ["--yes"]]) {
      const r = await fx.cli("purge", whole, ...yes);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.equal(
        r.stderr,
        "Cannot purge the whole backup: give the files or folders to purge: see 'purge --help'\n",
      );
    }
  }
  assert.deepEqual(fingerprint(fx.backup), before);
  // A folder of it is a folder as any other.
  assert.equal((await fx.cli("purge", "d", "--yes")).code, 0);
  assert.deepEqual(
    listFiles(fx.backup).filter((f) => !f.startsWith(".backup-tool/")),
    ["_deleted/a.txt"],
  );
});

Deno.test("a purged symlink or empty file is not made again from its record: restore --at says it purged, and the target is gone from the state", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "empty.key": "" });
  Deno.symlinkSync("token-in-target", join(fx.source, "l"));
  await run(fx);
  const then = new Date().toISOString();
  exclude(fx, ["l", "empty.key"]);
  await run(fx);
  const r = await fx.cli("purge", "l", "empty.key", "--yes");
  assert.equal(r.code, 0, r.stdout + r.stderr);

  const to = join(fx.dir, "restored");
  const back = await fx.cli("restore", "--at", then, "--to", to);
  assert.equal(back.code, 1, back.stdout + back.stderr);
  for (const name of ["l", "empty.key"]) {
    assert.match(
      back.stdout + back.stderr,
      new RegExp(`${name} .*version 1 was purged at .*\\(backup-tool purge\\)`),
    );
  }
  assert.deepEqual(listFiles(to), ["a.txt"]);
  const state = Deno.readFileSync(join(fx.backup, ".backup-tool", "state.db"));
  assert.ok(!new TextDecoder().decode(state).includes("token-in-target"));
});

Deno.test("purge of one copy says 'copy' in the singular, in its log and on the console", async () => {
  using fx = makeFixture({ ".env": "SECRET=1\n", "a.txt": "a\n" });
  await run(fx);
  exclude(fx, [".env"]);
  await run(fx);
  const listed = await fx.cli("purge", ".env");
  assert.match(listed.stdout, /^Purge would delete 1 stored copy of 1 file \(9 B\);/m);
  const r = await fx.cli("purge", ".env", "--yes");
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^Purge complete: 1 stored copy purged \(9 B\), 0 failed; log: /m);
  const log = fx.lastLog();
  assert.ok(log.includes("PURGE: source/.env (1 copy)"), log.join("\n"));
  assert.ok(log.includes("Purge complete: 1 copy purged, 0 failed"), log.join("\n"));
});

Deno.test("purge of an excluded file whose copy was already removed by hand: recorded purged, said missing, nothing else deleted, exit 0", async () => {
  using fx = makeFixture({ ".env": "SECRET=1\n", "a.txt": "a\n" });
  await run(fx);
  writeTree(fx.source, { ".env": "SECRET=2\n" });
  await run(fx);
  exclude(fx, [".env"]);
  await run(fx);
  Deno.removeSync(join(fx.backup, ".env")); // its latest copy, by hand; v1 stays
  const r = await fx.cli("purge", ".env", "--yes");
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(
    listFiles(fx.backup).filter((f) => !f.startsWith(".backup-tool/")),
    ["a.txt"],
  );
  const missingLine = "PURGE forget: .env (already missing from the backup root: nothing to " +
    "delete; recorded as purged)";
  assert.ok(r.stdout.includes(`${missingLine}\n`), r.stdout);
  assert.match(
    r.stdout,
    /^Purge complete: 1 stored copy purged \(9 B\), 1 already missing from the backup root \(recorded as purged\), 0 failed; log: /m,
  );
  const log = fx.lastLog();
  assert.ok(log.includes(missingLine), log.join("\n"));
  assert.ok(log.includes("PURGE delete: versions/.env/v1.bak"), log.join("\n"));
  assert.ok(
    log.includes("Purge complete: 1 copy purged, 1 already missing, 0 failed"),
    log.join("\n"),
  );
  // Its record is gone for good: history says purged, purge and verify have nothing more.
  const history = await fx.cli("history", ".env");
  assert.equal(history.stdout.match(/purged by 'purge' at /g)?.length, 2, history.stdout);
  const again = await fx.cli("purge", ".env");
  assert.equal(again.code, 0);
  assert.match(again.stdout, /^Nothing to purge: no stored copy is recorded at 'source\/.env'/);
  assert.equal((await fx.cli("verify")).code, 0);
  // --json names the copy found missing.
  using fy = makeFixture({ "big.img": "x".repeat(100), "a.txt": "a\n" });
  await run(fy);
  Deno.removeSync(join(fy.source, "big.img"));
  await run(fy);
  Deno.removeSync(join(fy.backup, "_deleted", "big.img"));
  const j = await fy.cli("purge", "big.img", "--yes", "--json");
  assert.equal(j.code, 0, j.stdout + j.stderr);
  const doc = JSON.parse(j.stdout);
  assert.deepEqual(doc.missing, ["_deleted/big.img"]);
  assert.equal(doc.purged, true);
  assert.equal((await fy.cli("verify")).code, 0);
});

Deno.test("purge keeps an original's copy that holds the only stored bytes of a duplicate still backed up, whose own copy is missing: exit 1, the remedy named", async () => {
  using fx = makeFixture({ "a.img": "same bytes\n", "b.img": "same bytes\n", ".env": "s\n" });
  await run(fx);
  exclude(fx, ["a.img", ".env"]);
  await run(fx);
  Deno.removeSync(join(fx.backup, "_duplicates", "b.img")); // b.img's copy, by hand
  const message = "Cannot purge its copy 'a.img': it holds the only stored bytes of " +
    "'source/b.img', still backed up, whose own copy '_duplicates/b.img' is missing from the " +
    `backup root: run 'verify --repair --config ${fx.config}' first (it stores them again), then purge again; the ` +
    "copy was left in place";
  // Listed: said before any --yes, exit 1.
  const listed = await fx.cli("purge", "a.img", ".env");
  assert.equal(listed.code, 1, listed.stdout + listed.stderr);
  assert.equal(listed.stderr, `ERROR: source/a.img: ${message}\n`);
  assert.match(listed.stdout, /^PURGE: \.env \(source\/\.env v1, latest, 2 B\)\n/);
  // With --yes: the others go, that copy stays, exit 1.
  const r = await fx.cli("purge", "a.img", ".env", "--yes");
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.equal(r.stderr, `ERROR: source/a.img: ${message}\n`);
  assert.match(r.stdout, /^Purge complete: 1 stored copy purged \(2 B\), 1 failed; log: /m);
  assert.deepEqual(
    listFiles(fx.backup).filter((f) => !f.startsWith(".backup-tool/")),
    ["a.img"],
  );
  assert.ok(fx.lastLog().includes(`ERROR: source/a.img: ${message}`), fx.lastLog().join("\n"));
  // The remedy, then the same purge: done, and b.img is backed up from its own copy.
  const repair = await fx.cli("verify", "--repair");
  assert.equal(repair.code, 0, repair.stdout + repair.stderr);
  const again = await fx.cli("purge", "a.img", "--yes");
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.ok(!listFiles(fx.backup).includes("a.img"));
  Deno.removeSync(join(fx.source, "b.img")); // gone from the source: the backup holds it still
  const next = await fx.cli("run", "--force"); // its only file deleted: past the guard
  assert.equal(next.code, 0, next.stdout + next.stderr);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "_deleted", "b.img")), "same bytes\n");
  assert.equal((await fx.cli("verify")).code, 0);
});

Deno.test("purge marks purged the records of contents whose copy went before it, lost or pruned: a symlink's target leaves the state", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "b.txt": "b\n" }, {
    retention: { max_versions_per_file: 1 },
  });
  const relink = (target: string) => {
    Deno.removeSync(join(fx.source, "l"));
    Deno.symlinkSync(target, join(fx.source, "l"));
  };
  Deno.symlinkSync("token-lost", join(fx.source, "l"));
  await run(fx);
  Deno.removeSync(join(fx.backup, "l")); // v1's copy, by hand: recorded lost as archived
  relink("token-pruned");
  assert.equal((await fx.cli("run")).code, 1);
  relink("token-kept");
  await run(fx);
  relink("token-current");
  await run(fx); // v2 pruned by retention, v3 in versions/, v4 current
  writeConfig(fx.config, { ...BASE, retention: { max_versions_per_file: 1 }, exclude: ["l"] });
  await run(fx);
  const listed = await fx.cli("purge", "l");
  assert.equal(listed.code, 0, listed.stdout + listed.stderr);
  assert.match(
    listed.stdout,
    /^Purge would delete 2 stored copies of 1 file \(\d+ B\) and mark 2 records of copies gone before \(lost or pruned\) purged; nothing was deleted: run the same purge again with --yes/m,
  );
  const r = await fx.cli("purge", "l", "--yes");
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(
    r.stdout,
    /^Purge complete: 2 stored copies purged \(\d+ B\), 2 records of copies gone before marked purged, 0 failed; log: /m,
  );
  const log = fx.lastLog();
  for (const line of ["PURGE record: source/l v1 (lost)", "PURGE record: source/l v2 (pruned)"]) {
    assert.ok(log.includes(line), log.join("\n"));
  }
  const history = await fx.cli("history", "l");
  assert.equal(history.stdout.match(/purged by 'purge' at /g)?.length, 4, history.stdout);
  assert.ok(!history.stdout.includes("undefined"), history.stdout);
  const state = new TextDecoder().decode(
    Deno.readFileSync(join(fx.backup, ".backup-tool", "state.db")),
  );
  for (const token of ["token-lost", "token-pruned", "token-kept", "token-current"]) {
    assert.ok(!state.includes(token), token);
  }
  const again = await fx.cli("purge", "l");
  assert.match(again.stdout, /^Nothing to purge: /);
  assert.equal((await fx.cli("verify")).code, 0);
});
