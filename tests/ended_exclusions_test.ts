/**
 * Exclusions that ended, through the real CLI: a file backed up, then left out by the
 * config (an exclude pattern, a folder's tag), then followed again or deleted from its
 * source: `ls --at`, `restore --at` (its WARNING), `diff` across each edge and across the
 * whole span, and `history` answer of a moment inside the span as they did while it
 * lasted; a `watch` pass ends one as a run does; a state of the schema before (7) is read
 * as it is and migrated by the next run.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { type Fixture, makeFixture, olderSchemaSql, writeTree } from "./helpers.ts";
import { backedUp, WatchProcess } from "./watch_helpers.ts";
import { configure, endedTimes, ok, put } from "./restore_helpers.ts";
import { SCHEMA_VERSION } from "../src/state/schema.ts";

const summary = (counts: string, since: string, until: string) =>
  `${counts} (between ${since} and ${until})`;

const WARNED = (path: string) =>
  new RegExp(
    `^WARNING: '${
      path.replaceAll("/", "\\/").replaceAll(".", "\\.")
    }' is excluded \\(the config leaves it out: an exclude pattern, a folder's tag, one_file_system or exclude_larger_than\\): the backup holds its last content backed up, at \\S+Z, and the file may have changed since$`,
    "m",
  );

/**
 * The WARNING of a file restored or listed `--at` a moment inside an exclusion that ended
 * since: said in the past, with its span; `then`: how it ended, and what follows.
 */
const WAS_WARNED = (path: string, from: string, to: string, then: string) =>
  `WARNING: '${path}' was excluded from ${from} to ${to} (the config left it out, ${then}`;

/** Backed up, taken out by `*.log`, then followed again: x.log changed meanwhile, y.log not. */
async function followedAgain(fx: Fixture): Promise<string[]> {
  put(fx.source, { "a.txt": "a\n", "x.log": "x1\n", "y.log": "y\n" });
  await ok(fx, "run");
  configure(fx, { exclude: ["*.log"] });
  await ok(fx, "run");
  put(fx.source, { "x.log": "x2, changed while left out\n" });
  configure(fx);
  await ok(fx, "run");
  return await endedTimes(fx);
}

Deno.test("ls and restore --at a moment while a file was excluded, followed again since: listed and restored as excluded then, with the WARNING", async () => {
  using fx = makeFixture({});
  const [, during] = await followedAgain(fx);
  const ls = JSON.parse(await ok(fx, "ls", "--at", during, "--json"));
  const listed = Object.fromEntries(
    ls.files.map((f: { path: string; excluded?: true; version: number }) => [f.path, f]),
  );
  assert.equal(listed["source/x.log"].excluded, true);
  assert.equal(listed["source/x.log"].version, 1);
  assert.equal(listed["source/y.log"].excluded, true);
  assert.equal(listed["source/a.txt"].excluded, undefined);
  // Not excluded now: said in the past, from when to when, and the moment to give instead.
  const [{ from, to: until }] = JSON.parse(await ok(fx, "history", "x.log", "--json")).exclusions;
  assert.equal(listed["source/x.log"].excludedUntil, until);
  const lsText = await fx.cli("ls", "--at", during);
  assert.match(
    lsText.stdout,
    new RegExp(`source/x\\.log .*; excluded from ${from} to ${until}$`, "m"),
  );
  const followed = `then followed it again): the backup holds its last content backed up before ` +
    "that, at ";
  const remedy = `, and the file may have changed meanwhile: give --at ${until} or a later ` +
    "time for the content backed up once it was followed again";
  assert.ok(
    lsText.stderr.includes(WAS_WARNED("source/x.log", from, until, followed)),
    lsText.stderr,
  );
  assert.doesNotMatch(lsText.stderr, / is excluded/);
  const to = join(fx.dir, "then");
  const r = await fx.cli("restore", "--at", during, "--to", to);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(Deno.readTextFileSync(join(to, "x.log")), "x1\n");
  for (const path of ["source/x.log", "source/y.log"]) {
    assert.ok(r.stderr.includes(WAS_WARNED(path, from, until, followed)), r.stderr);
  }
  assert.ok(r.stderr.includes(remedy), r.stderr);
  assert.doesNotMatch(r.stderr, / is excluded/);
  assert.doesNotMatch(r.stderr, /a\.txt/);
  const json = JSON.parse(
    await ok(fx, "restore", "x.log", "--at", during, "--to", join(fx.dir, "j"), "--json"),
  );
  assert.ok(
    json.restored[0].warning.startsWith(
      `it was excluded from ${from} to ${until} (the config left it out, ${followed}`,
    ),
    json.restored[0].warning,
  );
  // Now, and without --at, it is followed: no warning.
  const now = await fx.cli("restore", "--to", join(fx.dir, "now"));
  assert.equal(now.code, 0, now.stderr);
  assert.doesNotMatch(now.stderr, /WARNING/);
  assert.equal(Deno.readTextFileSync(join(fx.dir, "now", "x.log")), "x2, changed while left out\n");
});

Deno.test("diff across an exclusion that ended: removed (excluded) across its start, added across its end, as modified across the whole", async () => {
  using fx = makeFixture({});
  const [before, during, after] = await followedAgain(fx);
  assert.equal(
    await ok(fx, "diff", "--since", before, "--until", during),
    `- source/x.log\n- source/y.log\n${
      summary("0 added, 2 removed (2 excluded), 0 modified", before, during)
    }\n`,
  );
  assert.equal(
    await ok(fx, "diff", "--since", during, "--until", after),
    `+ source/x.log\n+ source/y.log\n${summary("2 added, 0 removed, 0 modified", during, after)}\n`,
  );
  assert.equal(
    await ok(fx, "diff", "--since", before, "--until", after),
    `M source/x.log\n${summary("0 added, 0 removed, 1 modified", before, after)}\n`,
  );
  const json = JSON.parse(await ok(fx, "diff", "--since", before, "--until", during, "--json"));
  assert.deepEqual(json.changes.map((c: { excluded?: true }) => c.excluded), [true, true]);
});

Deno.test("history of a file excluded and followed again: the span listed, and in --json", async () => {
  using fx = makeFixture({});
  const [before, during, after] = await followedAgain(fx);
  const json = JSON.parse(await ok(fx, "history", "x.log", "--json"));
  assert.equal(json.excluded, undefined);
  assert.equal(json.exclusions.length, 1);
  const [{ from, to, ended }] = json.exclusions;
  assert.equal(ended, "followed");
  assert.ok(before < from && from <= during && during < to && to <= after, JSON.stringify(json));
  // The content kept meanwhile was replaced when the file was followed again.
  assert.equal(json.versions[0].replaced, to);
  const text = await ok(fx, "history", "y.log");
  assert.ok(
    text.includes(`Excluded from ${from} to ${to} (followed again): the config left it out`),
    text,
  );
  assert.equal(JSON.parse(await ok(fx, "history", "a.txt", "--json")).exclusions, undefined);
});

Deno.test("a file deleted from its source while excluded: its exclusion ends at the deletion", async () => {
  using fx = makeFixture({});
  put(fx.source, { "a.txt": "a\n", "d.log": "d\n" });
  await ok(fx, "run");
  configure(fx, { exclude: ["*.log"] });
  await ok(fx, "run");
  Deno.removeSync(join(fx.source, "d.log"));
  await ok(fx, "run"); // archives it as deleted
  const [before, during, after] = await endedTimes(fx);
  assert.equal(
    await ok(fx, "diff", "--since", before, "--until", during),
    `- source/d.log\n${summary("0 added, 1 removed (1 excluded), 0 modified", before, during)}\n`,
  );
  // Gone already (excluded) at the start: its deletion is no change.
  assert.equal(
    await ok(fx, "diff", "--since", during, "--until", after),
    `${summary("0 added, 0 removed, 0 modified", during, after)}\n`,
  );
  const ls = JSON.parse(await ok(fx, "ls", "--at", during, "--json"));
  assert.equal(ls.files.find((f: { path: string }) => f.path === "source/d.log").excluded, true);
  const r = await fx.cli("restore", "d.log", "--at", during, "--to", join(fx.dir, "then"));
  assert.equal(r.code, 0, r.stderr);
  const [span] = JSON.parse(await ok(fx, "history", "d.log", "--json")).exclusions;
  const deleted = `then deleted from its source at ${span.to}): the backup holds its last ` +
    "content backed up before that, at ";
  assert.ok(r.stderr.includes(WAS_WARNED("source/d.log", span.from, span.to, deleted)), r.stderr);
  assert.match(r.stderr, /and the file may have changed before it was deleted$/m);
  assert.equal(span.ended, "deleted");
  assert.match(await ok(fx, "history", "d.log"), /\(deleted from the source\)/);
});

Deno.test("a folder's tag (exclude_if_present) removed: ls, restore and diff --at a moment while it stood answer as they did then", async () => {
  using fx = makeFixture({});
  configure(fx, { exclude_if_present: [".nobackup"] });
  put(fx.source, { "a.txt": "a\n", "cache/c1.bin": "1\n", "cache/c2.bin": "2\n" });
  await ok(fx, "run");
  put(fx.source, { "cache/.nobackup": "" });
  await ok(fx, "run");
  const [before, during] = await endedTimes(fx);
  const answers = async () => {
    const r = await fx.cli(
      "restore",
      "--at",
      during,
      "--to",
      join(fx.dir, `then-${Math.random()}`),
    );
    assert.equal(r.code, 0, r.stderr);
    return {
      // Where each copy lives now aside (the tag's moved to _deleted/ since).
      ls: JSON.parse(await ok(fx, "ls", "--at", during, "--json")).files.map((
        f: { path: string; version: number; excluded?: true },
      ) => [f.path, f.version, f.excluded]),
      restore: r.stderr,
      diff: await ok(fx, "diff", "--since", before, "--until", during),
    };
  };
  const whileExcluded = await answers();
  Deno.removeSync(join(fx.source, "cache", ".nobackup"));
  await ok(fx, "run");
  const [, , after] = await endedTimes(fx);
  // The same answers, but for the WARNING: said in the past now that the tag is gone (for
  // each file: the tag itself was backed up, so not every file of the folder was excluded).
  const since = await answers();
  assert.deepEqual({ ...since, restore: "" }, { ...whileExcluded, restore: "" });
  const [span] = JSON.parse(await ok(fx, "history", "cache/c1.bin", "--json")).exclusions;
  for (const file of ["c1.bin", "c2.bin"]) {
    const was = WAS_WARNED(`source/cache/${file}`, span.from, span.to, "then followed it again)");
    assert.ok(since.restore.includes(was), since.restore);
  }
  // The tag itself was backed up (a folder's tag is kept): it was there, the files not.
  assert.equal(
    whileExcluded.diff,
    `+ source/cache/.nobackup\n- source/cache/c1.bin\n- source/cache/c2.bin\n${
      summary("1 added, 2 removed (2 excluded), 0 modified", before, during)
    }\n`,
  );
  assert.match(whileExcluded.restore, WARNED("source/cache/c1.bin"));
  assert.match(whileExcluded.restore, WARNED("source/cache/c2.bin"));
  assert.equal(
    await ok(fx, "diff", "--since", during, "--until", after),
    `- source/cache/.nobackup\n+ source/cache/c1.bin\n+ source/cache/c2.bin\n${
      summary("2 added, 1 removed, 0 modified", during, after)
    }\n`,
  );
});

Deno.test("a folder an exclude pattern took out whole, followed again: restore --at a moment inside says it for the folder, as it did then", async () => {
  using fx = makeFixture({});
  put(fx.source, { "a.txt": "a\n", "cache/c1.bin": "1\n", "cache/c2.bin": "2\n" });
  await ok(fx, "run");
  configure(fx, { exclude: ["cache/"] });
  await ok(fx, "run");
  const [, during] = await endedTimes(fx);
  const restored = async () => {
    const r = await fx.cli(
      "restore",
      "--at",
      during,
      "--to",
      join(fx.dir, `then-${Math.random()}`),
    );
    assert.equal(r.code, 0, r.stderr);
    return r.stderr;
  };
  const whileExcluded = await restored();
  assert.match(
    whileExcluded,
    /^WARNING: every file recorded under 'source\/cache' is excluded .*: the backup holds the 2 files restored as last backed up/m,
  );
  configure(fx);
  await ok(fx, "run");
  const [span] = JSON.parse(await ok(fx, "history", "cache/c1.bin", "--json")).exclusions;
  assert.match(
    await restored(),
    new RegExp(
      `^WARNING: every file recorded under 'source/cache' was excluded from ${span.from} to ` +
        `${span.to} \\(the config left each out, then followed them again\\): the backup holds ` +
        "the 2 files restored as last backed up before that, the last at \\S+Z, and they may " +
        `have changed meanwhile: give --at ${span.to} or a later time for the contents backed ` +
        "up once they were followed again$",
      "m",
    ),
  );
});

Deno.test("a state of schema 7 is read as it is, and the run that migrates it records the exclusions that end from then on", async () => {
  using fx = makeFixture({});
  put(fx.source, { "a.txt": "a\n", "x.log": "x\n" });
  await ok(fx, "run");
  configure(fx, { exclude: ["*.log"] });
  await ok(fx, "run");
  const state = join(fx.backup, ".backup-tool", "state.db");
  const db = new DatabaseSync(state);
  db.exec(`PRAGMA journal_mode = DELETE; ${olderSchemaSql(7)}`);
  db.close();
  const version = () => {
    const db = new DatabaseSync(state, { readOnly: true });
    try {
      return (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version;
    } finally {
      db.close();
    }
  };
  const [before, during] = await endedTimes(fx);
  // Read without migrating: no span known, the current exclusion as before.
  assert.equal(
    await ok(fx, "diff", "--since", before, "--until", during),
    `- source/x.log\n${summary("0 added, 1 removed (1 excluded), 0 modified", before, during)}\n`,
  );
  assert.equal(version(), 7);
  configure(fx);
  await ok(fx, "run"); // migrates, and ends the exclusion recorded at schema 7
  assert.equal(version(), SCHEMA_VERSION);
  const [, , after] = await endedTimes(fx);
  assert.equal(
    await ok(fx, "diff", "--since", before, "--until", during),
    `- source/x.log\n${summary("0 added, 1 removed (1 excluded), 0 modified", before, during)}\n`,
  );
  assert.equal(
    await ok(fx, "diff", "--since", during, "--until", after),
    `+ source/x.log\n${summary("1 added, 0 removed, 0 modified", during, after)}\n`,
  );
});

Deno.test("watch: a file over exclude_larger_than that shrinks under it is followed again, and its exclusion's span recorded as a run's is", async () => {
  using fx = makeFixture({});
  put(fx.source, { "a.txt": "a\n", "big.bin": "x".repeat(2000) });
  await ok(fx, "run");
  const base = { watch: { debounce_ms: 200, rescan_interval: 0 } };
  configure(fx, { ...base, exclude_larger_than: "1K" });
  await ok(fx, "run"); // takes big.bin out
  const [before, during] = await endedTimes(fx);
  await using w = new WatchProcess(fx, []);
  await w.ready();
  writeTree(fx.source, { "big.bin": "small now\n" });
  await backedUp(fx.backup, "big.bin", "small now\n");
  const exit = await w.stop();
  assert.equal(exit.code, 0, exit.stderr);
  const [span] = JSON.parse(await ok(fx, "history", "big.bin", "--json")).exclusions;
  assert.equal(span.ended, "followed");
  assert.ok(before < span.from && span.from <= during && during < span.to, JSON.stringify(span));
  assert.equal(
    await ok(fx, "diff", "--since", before, "--until", during),
    `- source/big.bin\n${summary("0 added, 1 removed (1 excluded), 0 modified", before, during)}\n`,
  );
  assert.match(
    await ok(fx, "diff", "--since", during),
    /^\+ source\/big\.bin\n1 added, 0 removed, 0 modified /,
  );
});

Deno.test("restore and ls --at a moment after a file excluded was purged, backed up again since: said excluded and purged then, not deleted", async () => {
  using fx = makeFixture({});
  put(fx.source, { "a.txt": "a\n", "x.log": "x1\n" });
  await ok(fx, "run");
  configure(fx, { exclude: ["*.log"] });
  await ok(fx, "run");
  await ok(fx, "purge", "x.log", "--yes");
  configure(fx);
  put(fx.source, { "x.log": "x2\n" });
  await ok(fx, "run");
  const [, during, purged, after] = await endedTimes(fx);
  const [span] = JSON.parse(await ok(fx, "history", "x.log", "--json")).exclusions;
  const said = `'source/x.log' is not in the backup as of ${purged}: it was excluded at ` +
    `${span.from} (the config left it out) and purged at ${span.to} (backup-tool purge), then ` +
    "backed up again at ";
  for (const at of [during, purged]) {
    const r = await fx.cli("restore", "x.log", "--at", at, "--to", join(fx.dir, "then"));
    assert.equal(r.code, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /deleted/);
    const l = await fx.cli("ls", "x.log", "--at", at);
    assert.equal(l.code, 1, l.stderr);
    assert.doesNotMatch(l.stderr, /deleted/);
    if (at === purged) {
      assert.ok(r.stderr.includes(said), r.stderr);
      assert.ok(l.stderr.includes(said), l.stderr);
      assert.match(r.stderr, /: give that time to --at$/m);
    }
  }
  assert.ok(after > purged);
});
