/**
 * End-to-end tests of `diff`, through the real CLI on real temp folders: three runs (a file
 * edited, one deleted, one turned into a symlink, a symlink pointed elsewhere, one added,
 * one edited and then put back as it was, one more edit), compared between each run's ENDED
 * time (`history --json`) and the latest: the lines, the summary, a folder PATH, `--until`,
 * the `--json` document, `--backup-root` without a config, a file an exclude pattern took
 * out (and one deleted before its path was made again and excluded), nothing changed, the
 * backup root left as it was, a `--json` document still whole when a damaged page of the
 * state ends the comparison partway, and the refusals (exit 2): --since later than --until
 * or in the future, a PATH not in the backup, no --since.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  damageLastCopiesPage,
  fingerprint,
  type Fixture,
  makeFixture,
  runCli,
  writeConfig,
} from "./helpers.ts";
import { assertUsage } from "./cli_helpers.ts";
import { ok, put } from "./restore_helpers.ts";
import { exists } from "./reliability/util.ts";

/** A step's entry: the file's text, a symlink to `link`, or null (deleted). */
type Entry = string | { link: string } | null;

/** What each run changes in the source, in turn. */
const RUNS: Record<string, Entry>[] = [
  {
    "a.txt": "a1\n",
    "b.txt": "bee\n",
    "c.txt": "sea\n",
    "dir/d.txt": "dee\n",
    "dir/e.txt": "e1\n",
    "l": { link: "a.txt" },
  },
  {
    "a.txt": "a2, longer\n", // M
    "b.txt": null, // -
    "c.txt": { link: "a.txt" }, // T
    "dir/d.txt": "dee, edited\n", // M, then put back as it was
    "l": { link: "c.txt" }, // M: another target
    "n.txt": "new\n", // +
  },
  { "dir/d.txt": "dee\n", "dir/e.txt": "e2\n" },
];

/** `diff` between the end of the first run and the end of the second. */
const FIRST_TO_SECOND = [
  "M source/a.txt",
  "- source/b.txt",
  "T source/c.txt",
  "M source/dir/d.txt",
  "M source/l",
  "+ source/n.txt",
];

/** Makes each step of `runs` in the source and backs it up; each run's ENDED time. */
async function backUpInTurn(fx: Fixture, runs: Record<string, Entry>[]): Promise<string[]> {
  for (const step of runs) {
    for (const [rel, entry] of Object.entries(step)) {
      const at = join(fx.source, rel);
      // Deleted, or replaced by a symlink: whatever stood there goes first.
      if ((entry === null || typeof entry === "object") && exists(at)) Deno.removeSync(at);
      if (typeof entry === "string") put(fx.source, { [rel]: entry });
      else if (entry !== null) Deno.symlinkSync(entry.link, at);
    }
    await ok(fx, "run");
  }
  const history = JSON.parse(await ok(fx, "history", "--json"));
  return history.runs.map((r: { endedAt: string }) => r.endedAt);
}

/** `*.log` added to the fixture's config's exclude patterns. */
function excludeLogs(fx: Fixture): void {
  writeConfig(fx.config, {
    sources: ["./source"],
    backup_root: "./backup",
    log_dir: "./logs",
    exclude: ["*.log"],
  });
}

const summary = (counts: string, since: string, until = "the latest backup") =>
  `${counts} (between ${since} and ${until})`;

Deno.test("diff: what was added, removed, modified and changed kind between two runs", async () => {
  using fx = makeFixture({});
  const ended = await backUpInTurn(fx, RUNS);
  const before = fingerprint(fx.backup);
  const between = await ok(fx, "diff", "--since", ended[0], "--until", ended[1]);
  assert.deepEqual(between.trimEnd().split("\n"), [
    ...FIRST_TO_SECOND,
    summary("1 added, 1 removed, 3 modified, 1 changed kind", ended[0], ended[1]),
  ]);
  // Without --until, the latest: the third run's edit too, in path order; d.txt, put back
  // to the bytes it had (a third content of the same digest), is no change.
  const latest = await ok(fx, "diff", "--since", ended[0]);
  assert.deepEqual(latest.trimEnd().split("\n"), [
    ...FIRST_TO_SECOND.slice(0, 3),
    "M source/dir/e.txt",
    ...FIRST_TO_SECOND.slice(4),
    summary("1 added, 1 removed, 3 modified, 1 changed kind", ended[0]),
  ]);
  // A folder PATH: only what changed under it; a file PATH, itself; each PATH's in turn.
  assert.equal(
    await ok(fx, "diff", "--since", ended[0], "dir"),
    `M source/dir/e.txt\n${summary("0 added, 0 removed, 1 modified", ended[0])}\n`,
  );
  assert.equal(
    await ok(fx, "diff", "--since", ended[0], "--until", ended[1], "dir", "source/b.txt"),
    "M source/dir/d.txt\n- source/b.txt\n" +
      `${summary("0 added, 1 removed, 1 modified", ended[0], ended[1])}\n`,
  );
  // Nothing changed: the summary alone, exit 0.
  for (const args of [["--since", ended[2]], ["--since", ended[1], "--until", ended[1]]]) {
    const until = args[3] ?? "the latest backup";
    assert.equal(
      await ok(fx, "diff", ...args),
      `${summary("0 added, 0 removed, 0 modified", args[1], until)}\n`,
    );
  }
  assert.deepEqual(
    fingerprint(fx.backup),
    before,
    "the backup root, its state included, untouched",
  );
});

Deno.test("diff --json: since, until, each change with its contents before and after, counts", async () => {
  using fx = makeFixture({});
  const ended = await backUpInTurn(fx, RUNS);
  const doc = JSON.parse(await ok(fx, "diff", "--since", ended[0], "--until", ended[1], "--json"));
  const file = (version: number, size: number) => ({ version, kind: "file", size });
  const link = (version: number, linkTarget: string) => ({
    version,
    kind: "symlink",
    size: linkTarget.length,
    linkTarget,
  });
  assert.deepEqual(doc, {
    command: "diff",
    since: ended[0],
    until: ended[1],
    changes: [
      { path: "source/a.txt", change: "modified", before: file(1, 3), after: file(2, 11) },
      { path: "source/b.txt", change: "removed", before: file(1, 4) },
      { path: "source/c.txt", change: "type-changed", before: file(1, 4), after: link(2, "a.txt") },
      { path: "source/dir/d.txt", change: "modified", before: file(1, 4), after: file(2, 12) },
      { path: "source/l", change: "modified", before: link(1, "a.txt"), after: link(2, "c.txt") },
      { path: "source/n.txt", change: "added", after: file(1, 4) },
    ],
    counts: { added: 1, removed: 1, modified: 3, typeChanged: 1, excluded: 0 },
    error: null,
  });
  const latest = JSON.parse(await ok(fx, "diff", "--since", ended[2], "--json"));
  assert.equal(latest.until, null);
  assert.deepEqual(latest.changes, []);
});

Deno.test("diff --backup-root: the backup alone, its config gone", async () => {
  using fx = makeFixture({});
  const ended = await backUpInTurn(fx, RUNS);
  Deno.removeSync(fx.config);
  const r = await runCli(
    ["diff", "--since", ended[0], "--until", ended[1], "--backup-root", fx.backup],
    { cwd: fx.dir },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trimEnd().split("\n").slice(0, -1), FIRST_TO_SECOND);
});

Deno.test("diff: a file an exclude pattern took out is removed as of the latest", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "skip.log": "log\n" });
  await ok(fx, "run");
  const [first] = JSON.parse(await ok(fx, "history", "--json")).runs
    .map((r: { endedAt: string }) => r.endedAt);
  excludeLogs(fx);
  await ok(fx, "run");
  assert.equal(
    await ok(fx, "diff", "--since", first),
    `- source/skip.log\n${summary("0 added, 1 removed (1 excluded), 0 modified", first)}\n`,
  );
  const doc = JSON.parse(await ok(fx, "diff", "--since", first, "--json"));
  assert.deepEqual(doc.changes, [
    {
      path: "source/skip.log",
      change: "removed",
      before: { version: 1, kind: "file", size: 4 },
      excluded: true,
    },
  ]);
});

Deno.test("diff: a purge after the run that excluded a file does not move the exclusion", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "gone.txt": "g\n", "skip.log": "log\n" });
  await ok(fx, "run");
  Deno.removeSync(join(fx.source, "gone.txt"));
  excludeLogs(fx);
  await ok(fx, "run");
  const [, excluding] = JSON.parse(await ok(fx, "history", "--json")).runs
    .map((r: { endedAt: string }) => r.endedAt);
  // A purge (as a repair by verify) is recorded among the runs, but takes no file out.
  await ok(fx, "purge", "gone.txt", "--yes");
  // skip.log was out by the end of the second run: nothing changed for it since; gone.txt's
  // record ended when it was deleted, before.
  assert.equal(
    await ok(fx, "diff", "--since", excluding),
    `${summary("0 added, 0 removed, 0 modified", excluding)}\n`,
  );
});

Deno.test("diff: a file excluded runs ago is removed at the run that took it out, not at the latest", async () => {
  using fx = makeFixture({ "a.txt": "a1\n", "skip.log": "log\n" });
  await ok(fx, "run");
  excludeLogs(fx);
  await ok(fx, "run"); // takes skip.log out
  put(fx.source, { "a.txt": "a2\n" });
  await ok(fx, "run");
  const [first, excluding, third] = JSON.parse(await ok(fx, "history", "--json")).runs
    .map((r: { endedAt: string }) => r.endedAt);
  // Before, skip.log was there at any moment before the latest run: removed between the
  // second and third runs, and still there at the end of the second.
  assert.equal(
    await ok(fx, "diff", "--since", excluding),
    `M source/a.txt\n${summary("0 added, 0 removed, 1 modified", excluding)}\n`,
  );
  assert.equal(
    await ok(fx, "diff", "--since", first, "--until", excluding),
    `- source/skip.log\n${
      summary("0 added, 1 removed (1 excluded), 0 modified", first, excluding)
    }\n`,
  );
  assert.equal(
    await ok(fx, "diff", "--since", excluding, "--until", third),
    `M source/a.txt\n${summary("0 added, 0 removed, 1 modified", excluding, third)}\n`,
  );
  // find says when: the moment recorded, at or before the end of the run that took it out.
  const found = JSON.parse(await ok(fx, "find", "*.log", "--json"));
  const [{ state, excludedAt }] = found.matches;
  assert.equal(state, "excluded");
  assert.ok(
    excludedAt > first && excludedAt <= excluding,
    `${first} < ${excludedAt} <= ${excluding}`,
  );
  assert.match(await ok(fx, "find", "*.log"), new RegExp(`excluded at ${excludedAt}`));
  // Taken in again: no longer excluded, and no time said.
  writeConfig(fx.config, { sources: ["./source"], backup_root: "./backup", log_dir: "./logs" });
  await ok(fx, "run");
  const back = JSON.parse(await ok(fx, "find", "*.log", "--json"));
  const [again] = back.matches;
  assert.equal(again.state, "backed-up");
  assert.equal(again.excludedAt, undefined);
});

Deno.test("diff: a file deleted, then made again and excluded since, was deleted, not excluded, before", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "c.txt": "one\n" });
  await ok(fx, "run");
  Deno.removeSync(join(fx.source, "c.txt"));
  await ok(fx, "run"); // deletes c.txt
  put(fx.source, { "c.txt": "two\n" });
  await ok(fx, "run");
  writeConfig(fx.config, {
    sources: ["./source"],
    backup_root: "./backup",
    log_dir: "./logs",
    exclude: ["c.txt"],
  });
  await ok(fx, "run"); // takes c.txt out
  const [first, deleting, , excluding] = JSON.parse(await ok(fx, "history", "--json")).runs
    .map((r: { endedAt: string }) => r.endedAt);
  // Before, 'excluded' went with every removal of a path excluded now, whenever it was.
  assert.equal(
    await ok(fx, "diff", "--since", first, "--until", deleting),
    `- source/c.txt\n${summary("0 added, 1 removed, 0 modified", first, deleting)}\n`,
  );
  const doc = JSON.parse(await ok(fx, "diff", "--since", first, "--until", deleting, "--json"));
  assert.deepEqual(doc.changes, [
    { path: "source/c.txt", change: "removed", before: { version: 1, kind: "file", size: 4 } },
  ]);
  assert.equal(doc.counts.excluded, 0);
  // Removed by the exclusion where --until is at or after it.
  const out = JSON.parse(await ok(fx, "diff", "--since", first, "--until", excluding, "--json"));
  assert.deepEqual(out.changes.map((c: { excluded?: true }) => c.excluded), [true]);
});

Deno.test("diff: an excluded file purged since is still removed at the run that took it out", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "skip.log": "log\n" });
  await ok(fx, "run");
  writeConfig(fx.config, {
    sources: ["./source"],
    backup_root: "./backup",
    log_dir: "./logs",
    exclude: ["*.log"],
  });
  await ok(fx, "run"); // takes skip.log out
  await ok(fx, "purge", "skip.log", "--yes");
  const [first, excluding] = JSON.parse(await ok(fx, "history", "--json")).runs
    .map((r: { endedAt: string }) => r.endedAt);
  // Before, the purge ended its content then: there until the purge, removed by it. Its
  // exclusion's span, ended by the purge, still says it was taken out then, as it did before
  // the purge (before 2026-12-06, removed but not counted excluded).
  assert.equal(
    await ok(fx, "diff", "--since", first, "--until", excluding),
    `- source/skip.log\n${
      summary("0 added, 1 removed (1 excluded), 0 modified", first, excluding)
    }\n`,
  );
  assert.equal(
    await ok(fx, "diff", "--since", excluding),
    `${summary("0 added, 0 removed, 0 modified", excluding)}\n`,
  );
  // Up to now, after the purge: still in its source, left out by the config, not deleted
  // (before, removed as if deleted from the source).
  assert.equal(
    await ok(fx, "diff", "--since", first),
    `- source/skip.log\n${summary("0 added, 1 removed (1 excluded), 0 modified", first)}\n`,
  );
  // history says it was replaced when it was taken out, and purged by the purge after.
  const [v1] = JSON.parse(await ok(fx, "history", "skip.log", "--json")).versions;
  assert.ok(v1.replaced <= excluding && v1.replaced > first, `${first} < ${v1.replaced}`);
  assert.ok(v1.prunedAt > excluding, `${v1.prunedAt} > ${excluding}`);
  // Its span's line says the purge took its content out from its start (ls --at and restore
  // --at inside it find none), not that a content stood for it.
  const text = await ok(fx, "history", "skip.log");
  assert.match(
    text,
    /^Excluded from \S+Z to \S+Z \(purged\): the config left it out, and the purge deleted its content from then on$/m,
  );
  assert.doesNotMatch(text, /standing for it/);
});

Deno.test("diff --since and ls --at take a time before now: 1h, 0s", async () => {
  using fx = makeFixture({});
  await backUpInTurn(fx, RUNS);
  // An hour ago no run had ended: every path in the backup now was added since.
  const hour = (await ok(fx, "diff", "--since", "1h")).trimEnd().split("\n");
  assert.deepEqual(hour.slice(0, -1), [
    "+ source/a.txt",
    "+ source/c.txt",
    "+ source/dir/d.txt",
    "+ source/dir/e.txt",
    "+ source/l",
    "+ source/n.txt",
  ]);
  // The summary names the moment the duration gave, an hour before the command ran.
  const since = /between (\S+) and the latest backup\)$/.exec(hour.at(-1)!)?.[1];
  assert.ok(since !== undefined, hour.at(-1));
  const early = Date.now() - Date.parse(since);
  assert.ok(early >= 3_600_000 && early < 3_600_000 + 120_000, `${since}: ${early} ms ago`);
  // Now: nothing changed since; ls --at now lists what ls does, as of the moment it ran.
  assert.match(await ok(fx, "diff", "--since", "0s"), /^0 added, 0 removed, 0 modified \(/);
  const [now, latest] = [await ok(fx, "ls", "--at", "0s"), await ok(fx, "ls")]
    .map((out) => out.trimEnd().split("\n"));
  assert.deepEqual(now.slice(0, -1), latest.slice(0, -1));
  assert.match(now.at(-1)!, /^Listed 6 files \(2 symlinks\), 22 B \(as of \S+Z\)$/);
});

Deno.test("diff: refused with one line, exit 2: --since after --until or now, an unknown PATH, no --since", async () => {
  using fx = makeFixture({ "a.txt": "a\n" });
  await ok(fx, "run");
  const since = "2026-11-28T18:00:00Z";
  assertUsage(
    await fx.cli("diff", "--since", since, "--until", "2026-11-27"),
    new RegExp(
      `^Invalid --since '${since}': it is later than --until '2026-11-27': give the earlier ` +
        "moment to --since and the later one to --until\n$",
    ),
  );
  for (const later of [[], ["--until", "2999-06-01"]]) {
    // With --until later still, before: accepted, and nothing to say.
    assertUsage(
      await fx.cli("diff", "--since", "2999-01-01", ...later),
      /^Invalid --since '2999-01-01': it is in the future .*: give a moment past to --since\n$/,
    );
  }
  assertUsage(
    await fx.cli("diff", "--since", since, "nope.txt"),
    /^Cannot compare 'nope.txt': it is not in the backup: give a path the backup holds/,
  );
  assertUsage(await fx.cli("diff"), /^Missing --since for 'diff': .*see 'diff --help'\n$/);
  assertUsage(
    await fx.cli("diff", "--since", "yesterday"),
    /^Invalid --since value 'yesterday': expected an ISO-8601 time/,
  );
  assertUsage(
    await fx.cli("diff", "--since", since, "--at", since),
    /^Unknown option '--at' for 'diff' \(diff compares two moments/,
  );
});

Deno.test("diff --json met by a damaged state partway ends its document whole, the error in it", async () => {
  const name = (i: number) => `f${String(i).padStart(5, "0")}.txt`;
  using fx = makeFixture(
    Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [name(i), "x"])),
  );
  await ok(fx, "run");
  // The copies table's last page: its rows are read long after the first 64 KiB is written.
  damageLastCopiesPage(fx.backup);

  // Since before the backup: every file added.
  const r = await fx.cli("diff", "--since", "2020-01-01", "--json");
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^Diff failed: Cannot read backup state .*malformed/);
  assert.ok(r.stdout.length > 64 * 1024, "some of the document was written before the error");
  const doc = JSON.parse(r.stdout);
  const n = doc.changes.length;
  assert.ok(n > 0 && n < 3000, String(n));
  assert.deepEqual(doc.changes.at(-1), {
    path: `source/${name(n - 1)}`,
    change: "added",
    after: { version: 1, kind: "file", size: 1 },
  });
  assert.deepEqual(doc.counts, { added: n, removed: 0, modified: 0, typeChanged: 0, excluded: 0 });
  assert.equal(`Diff failed: ${doc.error}\n`, r.stderr);
});
