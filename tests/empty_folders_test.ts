/**
 * Empty folders, and folders holding only folders, come back from a restore as of any
 * moment (schema 10: when each folder stood, state/folder_spans.ts), through the real CLI on
 * real folders: latest and `--at`, in place and `--to`, a folder PATH, a single file (no
 * sibling folders), `--exclude`, `--dry-run`; a folder removed and one that came back; a
 * folder below an excluded, tagged or unreadable one not taken for gone; a watch session
 * removing and making one; a state of schema 9 migrated.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { type Fixture, makeFixture, olderSchemaSql, poll } from "./helpers.ts";
import { entriesUnder } from "./cli_helpers.ts";
import { configure, endedTimes, ok, put } from "./restore_helpers.ts";
import { WatchProcess } from "./watch_helpers.ts";
import { SCHEMA_VERSION } from "../src/state/schema.ts";

function mkdirs(root: string, ...paths: string[]): void {
  for (const p of paths) Deno.mkdirSync(join(root, ...p.split("/")), { recursive: true });
}

/** What a restore `--to` a new folder gives, files and folders alike. */
async function restoredTo(fx: Fixture, name: string, ...args: string[]): Promise<string[]> {
  const to = join(fx.dir, name);
  await ok(fx, "restore", ...args, "--to", to);
  try {
    return entriesUnder(to);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

const TREE = { "b/f.txt": "f\n" };
const FOLDERS = ["a/empty", "deep/x/y/z", "mail/cur", "mail/new", "mail/tmp"];

Deno.test("empty folders, nested ones and folders holding only folders come back, --to and in place, with their recorded mode and time", async () => {
  using fx = makeFixture({});
  put(fx.source, TREE);
  mkdirs(fx.source, ...FOLDERS);
  Deno.chmodSync(join(fx.source, "mail", "tmp"), 0o700);
  const old = new Date(Date.UTC(2020, 0, 2, 3, 4, 5));
  Deno.utimeSync(join(fx.source, "deep", "x"), old, old);
  await ok(fx, "run");
  const expected = entriesUnder(fx.source);
  assert.deepEqual(await restoredTo(fx, "r"), expected);
  const r = join(fx.dir, "r");
  assert.equal(Deno.statSync(join(r, "mail", "tmp")).mode! & 0o7777, 0o700);
  assert.equal(Deno.statSync(join(r, "deep", "x")).mtime!.getTime(), old.getTime());
  // In place, the source removed (a disk lost).
  Deno.removeSync(fx.source, { recursive: true });
  // Every folder but b (made for its file) is made for itself, and said.
  const made = expected.filter((e) => !e.startsWith("b")).map((f) =>
    `MADE FOLDER: source/${f}/ → ${join(fx.source, ...f.split("/"))}\n`
  );
  assert.equal(
    await ok(fx, "restore"),
    `RESTORED: source/b/f.txt (v1) → ${join(fx.source, "b", "f.txt")}\n${made.join("")}` +
      `Restore complete: 1 restored, 0 up to date, 0 not restored, ${made.length} folders made\n`,
  );
  assert.deepEqual(entriesUnder(fx.source), expected);
  assert.equal(Deno.statSync(join(fx.source, "mail", "tmp")).mode! & 0o7777, 0o700);
});

Deno.test("restore --at: a folder removed in run 2 comes back as of before it, not after, and one that came back as of then", async () => {
  using fx = makeFixture({});
  put(fx.source, TREE);
  mkdirs(fx.source, "a/empty", "gone/inner");
  await ok(fx, "run");
  Deno.removeSync(join(fx.source, "gone"), { recursive: true });
  Deno.removeSync(join(fx.source, "a", "empty"));
  await ok(fx, "run");
  mkdirs(fx.source, "a/empty");
  await ok(fx, "run");
  const [one, two, three] = await endedTimes(fx);
  assert.deepEqual(await restoredTo(fx, "at1", "--at", one), [
    "a",
    "a/empty",
    "b",
    "b/f.txt",
    "gone",
    "gone/inner",
  ]);
  assert.deepEqual(await restoredTo(fx, "at2", "--at", two), ["a", "b", "b/f.txt"]);
  assert.deepEqual(await restoredTo(fx, "at3", "--at", three), ["a", "a/empty", "b", "b/f.txt"]);
  assert.deepEqual(await restoredTo(fx, "latest"), ["a", "a/empty", "b", "b/f.txt"]);
});

Deno.test("a PATH naming an empty folder makes it, --to and in place, as of a moment it stood, not one it did not", async () => {
  using fx = makeFixture({});
  put(fx.source, TREE);
  mkdirs(fx.source, "a/empty");
  await ok(fx, "run");
  Deno.removeSync(join(fx.source, "a", "empty"));
  await ok(fx, "run");
  const [one, two] = await endedTimes(fx);
  assert.deepEqual(await restoredTo(fx, "at1", "a/empty", "--at", one), ["a", "a/empty"]);
  const to = join(fx.dir, "dry");
  assert.equal(
    await ok(fx, "restore", "a/empty", "--at", one, "--to", to, "--dry-run"),
    `WOULD MAKE FOLDER: source/a/empty/ → ${join(to, "a", "empty")}\n` +
      `Dry run (as of ${one}): 0 would be restored, 0 up to date, 0 would not be restored, ` +
      "1 folder would be made; nothing was written\n",
  );
  const after = await fx.cli("restore", "a/empty", "--at", two, "--to", join(fx.dir, "at2"));
  assert.equal(after.code, 1, after.stderr);
  assert.match(after.stderr, /'source\/a\/empty' is not in the backup as of /);
  await ok(fx, "restore", "a/empty", "--at", one);
  assert.ok(Deno.statSync(join(fx.source, "a", "empty")).isDirectory);
});

Deno.test("an empty folder of a source the config no longer names, in place: said as a file is (exit 1), made --to", async () => {
  using fx = makeFixture({});
  mkdirs(fx.source, "a/empty");
  await ok(fx, "run");
  Deno.mkdirSync(join(fx.dir, "other"));
  configure(fx, { sources: ["./other"] });
  Deno.removeSync(join(fx.source, "a"), { recursive: true });
  const r = await fx.cli("restore", "source/a/empty");
  // Was: 'Restore complete: 0 restored, 0 up to date, 0 not restored', exit 0, nothing made.
  assert.equal(r.code, 1, r.stderr);
  assert.equal(
    r.stderr,
    "NOT RESTORED: source/a/empty: Cannot restore 'source/a/empty' in place: source " +
      "'source' is no longer in the config: use --to DIR\n",
  );
  assert.throws(() => Deno.statSync(join(fx.source, "a")), Deno.errors.NotFound);
  assert.deepEqual(await restoredTo(fx, "r", "source/a/empty"), [
    "source",
    "source/a",
    "source/a/empty",
  ]);
});

Deno.test("every file deleted, its folders kept: a restore makes the tree of folders, complete (exit 0)", async () => {
  using fx = makeFixture({});
  put(fx.source, TREE);
  mkdirs(fx.source, "a/empty");
  await ok(fx, "run");
  Deno.removeSync(join(fx.source, "b", "f.txt"));
  await ok(fx, "run", "--force"); // the deletion guard: every file gone
  const r = await fx.cli("restore", "--to", join(fx.dir, "r"));
  // Was: 'NOT RESTORED: the backup holds no files', exit 1, the folders made all the same.
  assert.equal(r.code, 0, r.stderr);
  const made = ["a", "a/empty", "b"];
  assert.equal(
    r.stdout,
    made.map((f) => `MADE FOLDER: source/${f}/ → ${join(fx.dir, "r", ...f.split("/"))}\n`)
      .join("") + "Restore complete: 0 restored, 0 up to date, 0 not restored, 3 folders made\n",
  );
  assert.deepEqual(entriesUnder(join(fx.dir, "r")), made);
});

Deno.test("an --include or --exclude that matches only an empty folder matched it: no NOT RESTORED, no note", async () => {
  using fx = makeFixture({});
  put(fx.source, TREE);
  mkdirs(fx.source, "a/empty");
  await ok(fx, "run");
  // Was: 'NOT RESTORED: --include 'empty' matches no file in the backup…', exit 1, the
  // folder made all the same; and a NOTE that --exclude 'empty/' left nothing out.
  const inc = await fx.cli("restore", "--include", "empty", "--to", join(fx.dir, "inc"));
  assert.equal(inc.code, 0, inc.stderr);
  assert.equal(inc.stderr, "");
  assert.deepEqual(entriesUnder(join(fx.dir, "inc")), ["a", "a/empty"]);
  const exc = await fx.cli("restore", "--exclude", "empty/", "--to", join(fx.dir, "exc"));
  assert.equal(exc.code, 0, exc.stderr);
  assert.equal(exc.stderr, "");
  assert.deepEqual(entriesUnder(join(fx.dir, "exc")), ["a", "b", "b/f.txt"]);
});

Deno.test("a file PATH makes no sibling folders, a folder PATH its own, --exclude leaves folders out, --dry-run names them and makes none", async () => {
  using fx = makeFixture({});
  put(fx.source, { "b/f.txt": "f\n", "b/g.txt": "g\n" });
  mkdirs(fx.source, "b/empty", "b/logs/old", "c/empty");
  await ok(fx, "run");
  assert.deepEqual(await restoredTo(fx, "file", "b/f.txt"), ["b", "b/f.txt"]);
  assert.deepEqual(await restoredTo(fx, "folder", "b"), [
    "b",
    "b/empty",
    "b/f.txt",
    "b/g.txt",
    "b/logs",
    "b/logs/old",
  ]);
  assert.deepEqual(await restoredTo(fx, "filtered", "--exclude", "logs/"), [
    "b",
    "b/empty",
    "b/f.txt",
    "b/g.txt",
    "c",
    "c/empty",
  ]);
  const to = join(fx.dir, "dry");
  const said = await ok(fx, "restore", "c", "--to", to, "--dry-run");
  assert.equal(
    said,
    `WOULD MAKE FOLDER: source/c/ → ${join(to, "c")}\n` +
      `WOULD MAKE FOLDER: source/c/empty/ → ${join(to, "c", "empty")}\n` +
      "Dry run: 0 would be restored, 0 up to date, 0 would not be restored, 2 folders would be " +
      "made; nothing was written\n",
  );
  assert.throws(() => Deno.statSync(to), Deno.errors.NotFound);
  const doc = JSON.parse(await ok(fx, "restore", "c", "--to", to, "--dry-run", "--json"));
  assert.deepEqual(doc.folders, [
    { path: "source/c/", to: join(to, "c") },
    { path: "source/c/empty/", to: join(to, "c", "empty") },
  ]);
  const out = await fx.cli("restore", "c", "--to", "-");
  assert.equal(out.code, 2, out.stderr);
  assert.match(out.stderr, /Cannot write 'c' to standard output \(--to -\): it is a folder: /);
});

Deno.test("a folder excluded since, or below a tagged one, stands while it is there, and is gone once it is not", async () => {
  using fx = makeFixture({});
  put(fx.source, TREE);
  mkdirs(fx.source, "ex/inner", "ex/gone", "tagged/inner", "tagged/gone");
  await ok(fx, "run");
  configure(fx, { exclude: ["ex/"], exclude_if_present: [".nobackup"] });
  Deno.writeTextFileSync(join(fx.source, "tagged", ".nobackup"), "");
  // No walk looks inside them now: those still there stand, those gone from the source
  // went, as an excluded file gone from its source is archived.
  Deno.removeSync(join(fx.source, "ex", "gone"));
  Deno.removeSync(join(fx.source, "tagged", "gone"));
  await ok(fx, "run");
  const [, two] = await endedTimes(fx);
  const standing = ["b", "b/f.txt", "ex", "ex/inner", "tagged", "tagged/.nobackup", "tagged/inner"];
  assert.deepEqual(await restoredTo(fx, "r"), standing); // the tag is backed up
  configure(fx);
  Deno.removeSync(join(fx.source, "tagged", ".nobackup"));
  Deno.removeSync(join(fx.source, "ex", "inner"));
  await ok(fx, "run"); // followed again: the walk sees ex/inner gone
  assert.deepEqual(await restoredTo(fx, "r2"), ["b", "b/f.txt", "ex", "tagged", "tagged/inner"]);
  assert.deepEqual(await restoredTo(fx, "r3", "--at", two), standing);
});

Deno.test("a folder below one the walk cannot list is not taken for gone", async () => {
  if (Deno.uid() === 0) return; // root lists everything; core/folder_spans_test covers the rule
  using fx = makeFixture({});
  put(fx.source, TREE);
  mkdirs(fx.source, "locked/inner");
  await ok(fx, "run");
  Deno.chmodSync(join(fx.source, "locked"), 0);
  try {
    assert.equal((await fx.cli("run")).code, 1);
  } finally {
    Deno.chmodSync(join(fx.source, "locked"), 0o755);
  }
  assert.deepEqual(await restoredTo(fx, "r"), ["b", "b/f.txt", "locked", "locked/inner"]);
});

Deno.test("watch: an empty folder removed and one made are restored as the session saw them", async () => {
  using fx = makeFixture({});
  configure(fx, { watch: { debounce_ms: 200, rescan_interval: 0 } });
  put(fx.source, TREE);
  mkdirs(fx.source, "a/old");
  await ok(fx, "run");
  await using w = new WatchProcess(fx, []);
  await w.ready();
  Deno.removeSync(join(fx.source, "a", "old"));
  mkdirs(fx.source, "a/new/inner");
  const to = join(fx.dir, "dry");
  const wanted = `WOULD MAKE FOLDER: source/a/new/inner/ → ${join(to, "a", "new", "inner")}\n`;
  await poll("the watch to record the folders", async () => {
    // Said with a warning while the watch holds the backup.
    const said = (await fx.cli("restore", "a", "--to", to, "--dry-run")).stdout;
    return said.includes(wanted) && !said.includes("source/a/old/") && said;
  });
  const exit = await w.stop();
  assert.equal(exit.code, 0, exit.stderr);
  assert.deepEqual(await restoredTo(fx, "r"), ["a", "a/new", "a/new/inner", "b", "b/f.txt"]);
});

Deno.test("watch: a folder excluded since, removed during the session, is gone as of then", async () => {
  using fx = makeFixture({});
  put(fx.source, TREE);
  mkdirs(fx.source, "cache/x");
  await ok(fx, "run");
  const [before] = await endedTimes(fx);
  configure(fx, { exclude: ["cache/"], watch: { debounce_ms: 200, rescan_interval: 0 } });
  await using w = new WatchProcess(fx, []);
  await w.ready();
  Deno.removeSync(join(fx.source, "cache"), { recursive: true });
  // Was: its events dropped as excluded (no tracked file below it), so it stood until the
  // next full pass: with no periodic rescan, the whole session and after.
  const to = join(fx.dir, "dry");
  await poll("the watch to end the excluded folder's span", async () => {
    const said = (await fx.cli("restore", "--to", to, "--dry-run")).stdout;
    return said.includes("WOULD RESTORE: source/b/f.txt") && !said.includes("source/cache") &&
      said;
  });
  const exit = await w.stop();
  assert.equal(exit.code, 0, exit.stderr);
  assert.deepEqual(await restoredTo(fx, "r"), ["b", "b/f.txt"]);
  assert.deepEqual(await restoredTo(fx, "then", "--at", before), [
    "b",
    "b/f.txt",
    "cache",
    "cache/x",
  ]);
});

Deno.test("a state of schema 9 is read as it is, and the run that migrates it records folders' spans from then on", async () => {
  using fx = makeFixture({});
  put(fx.source, TREE);
  mkdirs(fx.source, "a/empty", "gone/inner");
  await ok(fx, "run");
  const state = join(fx.backup, ".backup-tool", "state.db");
  const db = new DatabaseSync(state);
  db.exec(`PRAGMA journal_mode = DELETE; ${olderSchemaSql(9)}`);
  db.close();
  // Read without migrating: as before, only the folders on the way to files.
  assert.deepEqual(await restoredTo(fx, "r9"), ["b", "b/f.txt"]);
  Deno.removeSync(join(fx.source, "gone"), { recursive: true });
  await ok(fx, "run"); // migrates
  const check = new DatabaseSync(state, { readOnly: true });
  const version = check.prepare("PRAGMA user_version").get() as { user_version: number };
  check.close();
  assert.equal(version.user_version, SCHEMA_VERSION);
  const [one, two] = await endedTimes(fx);
  // Standing at the migration: since before. Gone by then: when it stood is not known.
  assert.deepEqual(await restoredTo(fx, "at1", "--at", one), ["a", "a/empty", "b", "b/f.txt"]);
  assert.deepEqual(await restoredTo(fx, "at2", "--at", two), ["a", "a/empty", "b", "b/f.txt"]);
  // Since before: since the backup began, not before it (no file then, no folder either).
  const before = "2020-01-01T00:00:00Z";
  const early = await fx.cli("restore", "--at", before, "--to", join(fx.dir, "early"));
  assert.equal(early.code, 1, early.stderr);
  assert.throws(() => Deno.statSync(join(fx.dir, "early")), Deno.errors.NotFound);
  const empty = await fx.cli("restore", "a/empty", "--at", before, "--to", join(fx.dir, "e"));
  assert.equal(empty.code, 1, empty.stderr);
  assert.match(empty.stderr, /'source\/a\/empty' is not in the backup as of /);
  Deno.removeSync(join(fx.source, "a", "empty"));
  await ok(fx, "run");
  assert.deepEqual(await restoredTo(fx, "at2b", "--at", two), ["a", "a/empty", "b", "b/f.txt"]);
  assert.deepEqual(await restoredTo(fx, "latest"), ["a", "b", "b/f.txt"]);
});

Deno.test("a state of schema 9: folders no walk of this version saw (a source the config no longer names) are not made, whether they stood not known", async () => {
  using fx = makeFixture({});
  put(fx.source, TREE);
  mkdirs(fx.source, "kept/empty", "gone/empty");
  await ok(fx, "run");
  Deno.removeSync(join(fx.source, "gone"), { recursive: true });
  await ok(fx, "run");
  // Back to schema 9, which kept a row for every folder ever walked, 'gone' too.
  const db = new DatabaseSync(join(fx.backup, ".backup-tool", "state.db"));
  db.exec(`PRAGMA journal_mode = DELETE; ${olderSchemaSql(9)}`);
  db.close();
  Deno.mkdirSync(join(fx.dir, "other"));
  configure(fx, { sources: ["./other"] });
  await ok(fx, "run"); // migrates; 'source' walked no more
  // Until 2026-12-06 (evening): source/gone and source/gone/empty made, gone since run 2.
  assert.deepEqual(await restoredTo(fx, "r", "source"), ["source", "source/b", "source/b/f.txt"]);
});

Deno.test("a file or a symlink where an empty folder goes is left as it is, said once, the folders below it not tried, and so said by --dry-run", async () => {
  using fx = makeFixture({});
  put(fx.source, TREE);
  mkdirs(fx.source, "a/empty", "x/y/z");
  await ok(fx, "run");
  const to = join(fx.dir, "r");
  put(to, { "a/empty": "mine\n" });
  Deno.symlinkSync(fx.dir, join(to, "x"));
  // The dry run says the same refusals, once each, of the folders it would not make.
  const dry = await fx.cli("restore", "--to", to, "--dry-run");
  // Until 2026-12-06 (evening), exit 0: a folder not made is a part not restored.
  assert.equal(dry.code, 1, dry.stderr);
  assert.match(dry.stdout, /, 2 folders would not be made;/);
  assert.equal(
    dry.stderr,
    `WOULD NOT MAKE FOLDER: source/a/empty/ → ${join(to, "a", "empty")}: '${
      join(to, "a", "empty")
    }' is a file where a folder must be: move it away, or restore to another --to folder\n` +
      `WOULD NOT MAKE FOLDER: source/x/ → ${join(to, "x")}: '${join(to, "x")}' is a symlink, ` +
      `which a restore never writes through (it may lead outside '${to}'): remove the link, ` +
      "or restore to another --to folder\n",
  );
  const r = await fx.cli("restore", "--to", to);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stdout,
    /^Restore incomplete: 1 restored, 0 up to date, 0 not restored, 2 folders not made$/m,
  );
  const json = JSON.parse((await fx.cli("restore", "--to", to, "--json")).stdout);
  assert.deepEqual(
    json.failed.map((f: { path: string; kind: string; to: string }) => [f.path, f.kind, f.to]),
    [
      ["source/a/empty/", "error", join(to, "a", "empty")],
      ["source/x/", "error", join(to, "x")],
    ],
  );
  assert.equal(json.exitCode, 1);
  assert.equal(
    r.stderr,
    `WARNING: Cannot make folder '${join(to, "a", "empty")}': '${join(to, "a", "empty")}' is ` +
      "a file where a folder must be: move it away, or restore to another --to folder\n" +
      `WARNING: Cannot make folder '${join(to, "x")}': '${join(to, "x")}' is a symlink, which ` +
      `a restore never writes through (it may lead outside '${to}'): remove the link, or ` +
      "restore to another --to folder\n",
  );
  assert.equal(Deno.readTextFileSync(join(to, "a", "empty")), "mine\n");
  assert.throws(() => Deno.lstatSync(join(fx.dir, "y")), Deno.errors.NotFound);
});
