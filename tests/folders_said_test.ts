/**
 * What `restore` says of the folders it makes for themselves (empty ones, those holding only
 * folders), through the real CLI on real folders: a `MADE FOLDER` line each, as the dry run's
 * `WOULD MAKE FOLDER`, their count in the summary (nothing added where none), none said for
 * folders made on the way to a file, `--quiet` and `--json`; and `history` of such a folder,
 * which tells when it stood.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, makeFixture } from "./helpers.ts";
import { ok, put } from "./restore_helpers.ts";

function mkdirs(root: string, ...paths: string[]): void {
  for (const p of paths) Deno.mkdirSync(join(root, ...p.split("/")), { recursive: true });
}

/** A backup of b/f.txt, a/empty and mail/{cur,new} (a folder holding only folders). */
async function backedUp(): Promise<Fixture> {
  const fx = makeFixture({});
  put(fx.source, { "b/f.txt": "f\n" });
  mkdirs(fx.source, "a/empty", "mail/cur", "mail/new");
  await ok(fx, "run");
  return fx;
}

const FOLDERS = ["a", "a/empty", "mail", "mail/cur", "mail/new"];

Deno.test("restore says each folder it makes for itself as the dry run does, and counts them; none where none is made", async () => {
  using fx = await backedUp();
  const to = join(fx.dir, "r");
  const made = FOLDERS.map((f) => `MADE FOLDER: source/${f}/ → ${join(to, ...f.split("/"))}\n`);
  const dry = await ok(fx, "restore", "--to", to, "--dry-run");
  assert.equal(
    dry,
    `WOULD RESTORE: source/b/f.txt (v1) → ${join(to, "b", "f.txt")}\n` +
      made.map((l) => `WOULD ${l.replace("MADE", "MAKE")}`).join("") +
      "Dry run: 1 would be restored, 0 up to date, 0 would not be restored, 5 folders would " +
      "be made; nothing was written\n",
  );
  assert.equal(
    await ok(fx, "restore", "--to", to),
    `RESTORED: source/b/f.txt (v1) → ${join(to, "b", "f.txt")}\n${made.join("")}` +
      "Restore complete: 1 restored, 0 up to date, 0 not restored, 5 folders made\n",
  );
  // Everything there: no folder made, the summary as it always was.
  assert.equal(
    await ok(fx, "restore", "--to", to),
    `UP TO DATE: source/b/f.txt (${join(to, "b", "f.txt")})\n` +
      "Restore complete: 0 restored, 1 up to date, 0 not restored\n",
  );
  // A tree of folders alone: not a restore that did nothing.
  const mail = join(fx.dir, "mail");
  assert.equal(
    await ok(fx, "restore", "mail", "--to", mail),
    ["mail", "mail/cur", "mail/new"].map((f) =>
      `MADE FOLDER: source/${f}/ → ${join(mail, ...f.split("/"))}\n`
    ).join("") + "Restore complete: 0 restored, 0 up to date, 0 not restored, 3 folders made\n",
  );
  // The folders on the way to a file or to a folder PATH are not said, nor counted.
  const file = join(fx.dir, "file");
  assert.equal(
    await ok(fx, "restore", "b/f.txt", "--to", file),
    `RESTORED: source/b/f.txt (v1) → ${join(file, "b", "f.txt")}\n` +
      "Restore complete: 1 restored, 0 up to date, 0 not restored\n",
  );
  const one = join(fx.dir, "one");
  assert.equal(
    await ok(fx, "restore", "a/empty", "--to", one),
    `MADE FOLDER: source/a/empty/ → ${join(one, "a", "empty")}\n` +
      "Restore complete: 0 restored, 0 up to date, 0 not restored, 1 folder made\n",
  );
});

Deno.test("restore in place says the folder it makes again; --quiet says none; --json lists them in folders", async () => {
  using fx = await backedUp();
  Deno.removeSync(join(fx.source, "a", "empty"));
  assert.equal(
    await ok(fx, "restore"),
    `UP TO DATE: source/b/f.txt (${join(fx.source, "b", "f.txt")})\n` +
      `MADE FOLDER: source/a/empty/ → ${join(fx.source, "a", "empty")}\n` +
      "Restore complete: 0 restored, 1 up to date, 0 not restored, 1 folder made\n",
  );
  assert.equal(await ok(fx, "restore", "--to", join(fx.dir, "q"), "--quiet"), "");
  assert.ok(Deno.statSync(join(fx.dir, "q", "mail", "new")).isDirectory);
  const to = join(fx.dir, "j");
  const folders = FOLDERS.map((f) => ({ path: `source/${f}/`, to: join(to, ...f.split("/")) }));
  const dry = JSON.parse(await ok(fx, "restore", "--to", to, "--json", "--dry-run"));
  assert.deepEqual(dry.folders, folders);
  const doc = JSON.parse(await ok(fx, "restore", "--to", to, "--json"));
  assert.deepEqual(doc.folders, folders);
  assert.equal(doc.restored.length, 1);
  const again = JSON.parse(await ok(fx, "restore", "--to", to, "--json"));
  assert.equal(again.folders, undefined);
});

/** Each run's [started, ended] (ms), as `history --json` lists them. */
async function runTimes(fx: Fixture): Promise<[number, number][]> {
  const { runs } = JSON.parse(await ok(fx, "history", "--json"));
  return runs.map((r: { startedAt: string; endedAt: string }) => [
    Date.parse(r.startedAt),
    Date.parse(r.endedAt),
  ]);
}

/** Asserts the ISO time `at` falls within the run `[started, ended]`. */
function within(at: string, [started, ended]: [number, number], what: string): void {
  const t = Date.parse(at);
  assert.ok(t >= started && t <= ended, `${what}: ${at} not in [${started}, ${ended}]`);
}

Deno.test("history of a folder that holds no file tells when it stood, in text and --json; of a folder with files, as before", async () => {
  using fx = await backedUp();
  Deno.removeSync(join(fx.source, "a", "empty"));
  await ok(fx, "run");
  mkdirs(fx.source, "a/empty");
  await ok(fx, "run");
  const runs = await runTimes(fx);
  // Was: exit 1, "Cannot show history of 'a/empty': 'source/a/empty' was never backed up".
  const doc = JSON.parse(await ok(fx, "history", "a/empty", "--json"));
  assert.deepEqual(Object.keys(doc), ["path", "versions", "stood"]);
  assert.equal(doc.path, "source/a/empty");
  assert.deepEqual(doc.versions, []);
  const [gone, back] = doc.stood;
  assert.equal(doc.stood.length, 2);
  within(gone.from, runs[0], "first seen");
  within(gone.to, runs[1], "found gone");
  within(back.from, runs[2], "seen again");
  assert.equal(back.to, null);
  assert.equal(
    await ok(fx, "history", "a/empty"),
    "History of source/a/empty/ (a folder that holds no file: 2 spans when it stood)\n" +
      "STOOD FROM                TO\n" +
      `${gone.from}  ${gone.to}\n` +
      `${back.from}  standing\n`,
  );
  // A folder holding only folders, standing since the first run.
  const mail = JSON.parse(await ok(fx, "history", "mail", "--json"));
  assert.equal(mail.stood.length, 1);
  within(mail.stood[0].from, runs[0], "mail first seen");
  assert.equal(mail.stood[0].to, null);
  // A folder with files, and a path never there, as before.
  const b = await fx.cli("history", "b");
  assert.equal(b.code, 2, b.stderr);
  assert.match(b.stderr, /Cannot show history of folder 'b': give a file PATH under it/);
  const never = await fx.cli("history", "nowhere");
  assert.equal(never.code, 1, never.stderr);
  assert.match(never.stderr, /'source\/nowhere' was never backed up/);
});

Deno.test("restore of a folder that holds no file, gone since or not yet there: said when it stood, and the moment to give", async () => {
  using fx = await backedUp();
  Deno.removeSync(join(fx.source, "a", "empty"));
  await ok(fx, "run");
  const [first, second] = await runTimes(fx);
  const { stood: [span] } = JSON.parse(await ok(fx, "history", "a/empty", "--json"));
  const notRestored = async (...args: string[]) => {
    const r = await fx.cli("restore", "a/empty", "--to", join(fx.dir, "r"), ...args);
    assert.equal(r.code, 1, r.stderr);
    return r.stderr;
  };
  // Was: "'source/a/empty' is not in the backup", as of a path never recorded, no moment given.
  assert.match(
    await notRestored(),
    new RegExp(
      `NOT RESTORED: a/empty: 'source/a/empty' is not in the backup any more: the folder was ` +
        `found gone at ${span.to}: restore it with --at a time before that\n`,
    ),
  );
  const after = new Date(second[1] + 1000).toISOString();
  assert.match(
    await notRestored("--at", after),
    new RegExp(`as of ${after}: the folder was found gone at ${span.to}: give an earlier time`),
  );
  const before = new Date(first[0] - 1000).toISOString();
  assert.match(
    await notRestored("--at", before),
    new RegExp(`as of ${before}: the folder was first seen at ${span.from}: give that time or a`),
  );
  // The moment it gives makes it.
  assert.match(
    await ok(fx, "restore", "a/empty", "--at", span.from, "--to", join(fx.dir, "s")),
    /MADE FOLDER: source\/a\/empty\//,
  );
});

Deno.test("a file where a folder goes is said once, not for the folders below it, though a folder whose name sorts between comes after it", async () => {
  using fx = makeFixture({});
  put(fx.source, { "f.txt": "f\n" });
  // In path order: a, 'a b' (' ' sorts before '/'), a/x, a/y.
  mkdirs(fx.source, "a/x", "a/y", "a b");
  await ok(fx, "run");
  for (const name of ["a", "a b"]) {
    Deno.removeSync(join(fx.source, name), { recursive: true });
    Deno.writeTextFileSync(join(fx.source, name), "in the way\n");
  }
  const said = (stderr: string) => stderr.split("\n").filter((l) => /FOLDER|folder '/.test(l));
  const dry = await fx.cli("restore", "--dry-run");
  assert.equal(dry.code, 1, dry.stderr); // two folders would not be made
  // Was: a third line, for a/x, below the file 'a' already said.
  assert.deepEqual(said(dry.stderr).map((l) => l.split(" → ")[0]), [
    "WOULD NOT MAKE FOLDER: source/a/",
    "WOULD NOT MAKE FOLDER: source/a b/",
  ]);
  const r = await fx.cli("restore");
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /, 2 folders not made$/m);
  assert.deepEqual(said(r.stderr).map((l) => l.split(":")[1]), [
    ` Cannot make folder '${join(fx.source, "a")}'`,
    ` Cannot make folder '${join(fx.source, "a b")}'`,
  ]);
});
