/**
 * A stored copy that goes missing from the backup root (removed by hand, a disk fault)
 * must not stop the file's new content from being backed up, on this run or any later
 * one. The run backs it up, records the old content as lost, says so (a WARNING on stderr
 * and in the log, exit code 1, `warnings` in --json), leaves no empty folder behind, and
 * the next run is a clean no-op. The same holds for a deleted file, and for a crash after
 * such a copy was placed: recovery finishes it without mistaking one content for another,
 * and the run that recovers it gives the warning.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { type Fixture, makeFixture } from "../helpers.ts";
import { listDir, readState, runTool, sha256, type ToolResult } from "./util.ts";

const run = (fx: Fixture, args: string[] = ["run"], env?: Record<string, string>) =>
  runTool([...args, "--config", fx.config], { timeoutMs: 30_000, env });

function assertLostWarning(r: ToolResult, path: string, stored: string): void {
  assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
  const warnings = r.stderr.split("\n").filter((l) => l.startsWith("WARNING: "));
  assert.equal(warnings.length, 1, r.stderr);
  assert.ok(warnings[0].startsWith(`WARNING: ${path}: `), warnings[0]);
  assert.ok(warnings[0].includes(`'${stored}'`), warnings[0]);
  assert.match(warnings[0], /missing from the backup root.*recorded as lost/);
  assert.doesNotMatch(r.stderr, /ERROR/);
}

/** `verify` finds the backup intact, and the next run has nothing to do. */
async function assertVerifiedAndQuiet(fx: Fixture): Promise<void> {
  const verify = await run(fx, ["verify"]);
  assert.equal(verify.code, 0, `${verify.stdout}\n${verify.stderr}`);
  await assertQuietNextRun(fx);
}

async function assertQuietNextRun(fx: Fixture): Promise<void> {
  const next = await run(fx);
  assert.equal(next.code, 0, `${next.stdout}\n${next.stderr}`);
  assert.equal(next.stderr, "");
  assert.match(next.stdout, /0 new, 0 updated, 0 duplicate, \d+ unchanged, 0 deleted/);
}

Deno.test("a modified file whose stored copy was removed by hand is still backed up", async () => {
  using fx = makeFixture({ "a/x.txt": "one\n", "a/keep.txt": "keep\n" });
  assert.equal((await run(fx)).code, 0);
  Deno.removeSync(join(fx.backup, "a/x.txt"));
  Deno.writeTextFileSync(join(fx.source, "a/x.txt"), "two, longer\n");

  const r = await run(fx);
  assertLostWarning(r, "source/a/x.txt", "a/x.txt");
  assert.match(r.stdout, /1 updated/);
  assert.match(r.stdout, /Copies missing or damaged: 1 stored copy\(ies\) were found missing/);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "a/x.txt")), "two, longer\n");
  // The folder made for the archive that could not happen is not left behind.
  assert.deepEqual(listDir(fx.backup).filter((n) => !n.startsWith(".")), ["a"]);
  assert.ok(
    fx.lastLog().some((l) => l.startsWith("LOST: backup/a/x.txt")),
    fx.lastLog().join("\n"),
  );
  assert.ok(
    fx.lastLog().includes("Run complete with 0 failure(s), 1 missing or damaged copy(ies)"),
  );

  const copies = readState(fx.backup).copies.filter((c) => c.path === "source/a/x.txt");
  assert.deepEqual(copies.map((c) => [c.seq, c.location, c.stored_at, c.hash]), [
    [1, "lost", null, sha256("one\n")],
    [2, "latest", "a/x.txt", sha256("two, longer\n")],
  ]);
  const history = await run(fx, ["history", "source/a/x.txt", "--json"]);
  assert.equal(history.code, 0, history.stderr);
  assert.equal(JSON.parse(history.stdout).versions[0].location, "lost");
  const restore = await run(fx, ["restore", "source/a/x.txt", "--version", "1", "--to", fx.dir]);
  assert.equal(restore.code, 1);
  assert.match(restore.stderr + restore.stdout, /version 1 was found missing from the backup root/);
  await assertVerifiedAndQuiet(fx);
});

Deno.test("a deleted file whose stored copy was removed by hand is forgotten, not failed", async () => {
  using fx = makeFixture({ "a/gone.txt": "bye\n", "b/keep.txt": "keep\n" });
  assert.equal((await run(fx)).code, 0);
  Deno.removeSync(join(fx.backup, "a/gone.txt"));
  Deno.removeSync(join(fx.source, "a/gone.txt"));

  const r = await run(fx, ["run", "--json"]);
  assert.equal(r.code, 1, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.counts.delete, 1);
  assert.equal(doc.counts.failed, 0);
  assert.deepEqual(doc.warnings.map((w: { path: string }) => w.path), ["source/a/gone.txt"]);
  assert.deepEqual(listDir(fx.backup).filter((n) => !n.startsWith(".")), ["b"]);
  const state = readState(fx.backup);
  assert.ok(!state.files.some((f) => f.path === "source/a/gone.txt"));
  assert.equal(state.copies.find((c) => c.path === "source/a/gone.txt")?.location, "lost");
  await assertQuietNextRun(fx);
});

Deno.test("recovery finishes a placed copy whose archive was lost, by its content", async () => {
  using fx = makeFixture({ "x.txt": "old\n" });
  assert.equal((await run(fx)).code, 0);
  Deno.removeSync(join(fx.backup, "x.txt"));
  Deno.writeTextFileSync(join(fx.source, "x.txt"), "new content\n");

  // Killed right after the new copy was placed at the old copy's own path, before the
  // commit: the staged copy is gone, the target exists, no archive exists.
  const crashed = await run(fx, ["run"], { BACKUP_TOOL_FAULT: "placed:1" });
  assert.equal(crashed.code, 137, crashed.stderr);
  const r = await run(fx);
  assertLostWarning(r, "source/x.txt", "x.txt"); // said by the run that recovered it, exit 1
  assert.equal(Deno.readTextFileSync(join(fx.backup, "x.txt")), "new content\n");
  assert.ok(
    fx.lastLog().some((l) => l.startsWith("WARNING: source/x.txt: ")),
    fx.lastLog().join("\n"),
  );
  const copies = readState(fx.backup).copies.filter((c) => c.path === "source/x.txt");
  assert.deepEqual(copies.map((c) => [c.seq, c.location, c.hash]), [
    [1, "lost", sha256("old\n")],
    [2, "latest", sha256("new content\n")],
  ]);
  assert.deepEqual(listDir(join(fx.backup, ".backup-tool", "tmp")), []);
  await assertQuietNextRun(fx);
});

Deno.test("an unchanged file whose stored copy was removed by hand is copied again", async () => {
  using fx = makeFixture({ "a/x.txt": "same\n", "b/keep.txt": "keep\n" });
  assert.equal((await run(fx)).code, 0);
  Deno.removeSync(join(fx.backup, "a"), { recursive: true });
  // A touch (new mtime, same bytes) and a chmod: both refresh the recorded metadata.
  Deno.utimeSync(join(fx.source, "a/x.txt"), new Date(2020, 0, 1), new Date(2020, 0, 1));
  Deno.chmodSync(join(fx.source, "b/keep.txt"), 0o600);
  Deno.removeSync(join(fx.backup, "b/keep.txt"));

  const r = await run(fx);
  assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
  const warnings = r.stderr.split("\n").filter((l) => l.startsWith("WARNING: "));
  assert.equal(warnings.length, 2, r.stderr);
  assert.match(warnings.join("\n"), /'a\/x.txt' was missing from the backup root.*copied again/);
  assert.doesNotMatch(r.stderr, /ERROR/);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "a/x.txt")), "same\n");
  assert.equal(
    Deno.statSync(join(fx.backup, "a/x.txt")).mtime?.getTime(),
    new Date(2020, 0, 1).getTime(),
  );
  assert.equal(Deno.statSync(join(fx.backup, "b/keep.txt")).mode! & 0o777, 0o600);
  assert.ok(fx.lastLog().some((l) => l.startsWith("RECOPIED: source/a/x.txt → backup/a/x.txt")));
  const copies = readState(fx.backup).copies;
  assert.deepEqual(copies.map((c) => [c.path, c.seq, c.location]), [
    ["source/a/x.txt", 1, "latest"],
    ["source/b/keep.txt", 1, "latest"],
  ]);
  assert.deepEqual(listDir(join(fx.backup, ".backup-tool", "tmp")), []);
  await assertVerifiedAndQuiet(fx);
});

Deno.test("a file read again for its change time alone, its stored copy removed by hand, is copied again", async () => {
  using fx = makeFixture({ "a/x.txt": "same\n", "b/keep.txt": "keep\n" });
  assert.equal((await run(fx)).code, 0);
  Deno.removeSync(join(fx.backup, "a/x.txt"));
  // A chmod to the same mode: only the change time moves (so does `chown -R` to the same owner).
  Deno.chmodSync(join(fx.source, "a/x.txt"), Deno.statSync(join(fx.source, "a/x.txt")).mode!);

  const r = await run(fx);
  assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, /'a\/x.txt' was missing from the backup root.*copied again/);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "a/x.txt")), "same\n");
  assert.ok(fx.lastLog().some((l) => l.startsWith("RECOPIED: source/a/x.txt → backup/a/x.txt")));
  const rehashed = await run(fx, ["run", "--rehash"]);
  assert.equal(rehashed.code, 0, rehashed.stderr);
  Deno.removeSync(join(fx.backup, "b/keep.txt"));
  const again = await run(fx, ["run", "--rehash"]); // nothing changed: --rehash reads it all
  assert.equal(again.code, 1, again.stderr);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "b/keep.txt")), "keep\n");
  await assertVerifiedAndQuiet(fx);
});

Deno.test("a hash algorithm change meeting missing and damaged copies: the source decides, each is warned about", async () => {
  const tree = {
    "a.txt": "a: copy missing, source unchanged\n",
    "b.txt": "b: copy damaged, source unchanged\n",
    "c.txt": "c: copy damaged, source changed\n",
    "d.txt": "d: copy missing, source changed\n",
    "e.txt": "e: intact\n",
  };
  using fx = makeFixture(tree);
  Deno.symlinkSync("e.txt", join(fx.source, "l")); // f: a symlink whose stored link goes missing
  assert.equal((await run(fx)).code, 0);
  const cfg = JSON.parse(Deno.readTextFileSync(fx.config));
  Deno.writeTextFileSync(fx.config, JSON.stringify({ ...cfg, hash_algorithm: "sha512" }));
  Deno.removeSync(join(fx.backup, "l"));
  Deno.removeSync(join(fx.backup, "a.txt"));
  Deno.writeTextFileSync(join(fx.backup, "b.txt"), "flipped\n");
  Deno.writeTextFileSync(join(fx.backup, "c.txt"), "flipped\n");
  Deno.removeSync(join(fx.backup, "d.txt"));
  Deno.writeTextFileSync(join(fx.source, "c.txt"), "c: new content\n");
  Deno.writeTextFileSync(join(fx.source, "d.txt"), "d: new content\n");
  const r = await run(fx);
  assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /ERROR/);
  const warned = r.stderr.split("\n").filter((l) => l.startsWith("WARNING: "));
  assert.deepEqual(warned.map((l) => l.split(":")[1].trim()), [
    "source/a.txt",
    "source/b.txt",
    "source/c.txt",
    "source/d.txt",
    "source/l",
  ]);
  assert.match(warned[1], /'b.txt' no longer holds the content recorded for it.*verify --repair/);
  assert.match(warned[2], /'c.txt' no longer holds the content.*archived as version 1/);
  const log = fx.lastLog().join("\n");
  assert.match(log, /RECOPIED: source\/a.txt/);
  assert.match(log, /SKIP: source\/b.txt/);
  assert.match(log, /UPDATED: source\/c.txt/);
  assert.match(log, /LOST: backup\/d.txt/);
  assert.match(log, /SKIP: source\/e.txt/);
  assert.match(log, /RECOPIED: source\/l/);
  assert.equal(Deno.readLinkSync(join(fx.backup, "l")), "e.txt");
  // Unchanged files keep one content (no version made up by the change); changed ones get two.
  for (
    const [name, versions] of [["a.txt", 1], ["b.txt", 1], ["c.txt", 2], ["d.txt", 2]] as const
  ) {
    const history = (await run(fx, ["history", name])).stdout;
    assert.match(history, new RegExp(`\\(${versions} content`), `${name}: ${history}`);
  }
  for (const name of ["a.txt", "c.txt", "d.txt", "e.txt"]) {
    assert.equal(
      Deno.readTextFileSync(join(fx.backup, name)),
      Deno.readTextFileSync(join(fx.source, name)),
    );
  }
  await assertQuietNextRun(fx);
  // verify names the damaged ones; --repair copies b again from its unchanged source.
  const verify = await run(fx, ["verify"]);
  assert.equal(verify.code, 1);
  assert.match(verify.stderr + verify.stdout, /CHANGED: b.txt/);
  assert.match(verify.stderr + verify.stdout, /CHANGED: versions\/c.txt\/v1.bak/);
  await run(fx, ["verify", "--repair"]);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "b.txt")), tree["b.txt"]);
});

Deno.test("retention of a version whose copy is missing or replaced by hand says so, and removes nothing else", async () => {
  using fx = makeFixture({ "o.txt": "o", "o2.txt": "o2" });
  const cfg = JSON.parse(Deno.readTextFileSync(fx.config));
  Deno.writeTextFileSync(
    fx.config,
    JSON.stringify({ ...cfg, retention: { max_versions_per_file: 2 } }),
  );
  const edit = async (n: number) => {
    Deno.writeTextFileSync(join(fx.source, "f"), `v${n}`);
    const when = new Date(Date.UTC(2024, 0, 1, 0, n));
    Deno.utimeSync(join(fx.source, "f"), when, when);
    return await run(fx);
  };
  for (let n = 1; n <= 3; n++) assert.equal((await edit(n)).code, 0);
  const versions = join(fx.backup, "versions", "f");
  Deno.removeSync(join(versions, "v1.bak")); // lost
  Deno.removeSync(join(versions, "v2.bak"));
  Deno.mkdirSync(join(versions, "v2.bak")); // someone's folder in its place
  Deno.writeTextFileSync(join(versions, "v2.bak", "precious"), "mine");
  assert.equal((await edit(4)).code, 0);
  assert.ok(
    fx.lastLog().some((l) => l.startsWith("RETENTION forget: versions/f/v1.bak (no copy of ours")),
  );
  assert.equal((await edit(5)).code, 0);
  assert.ok(
    fx.lastLog().some((l) => l.startsWith("RETENTION forget: versions/f/v2.bak (no copy of ours")),
  );
  assert.ok(!fx.lastLog().some((l) => l.startsWith("RETENTION delete: versions/f/v2.bak")));
  assert.equal(Deno.readTextFileSync(join(versions, "v2.bak", "precious")), "mine");
});

/** `f` backed up with three contents, two versions kept: v1 and v2 stored, v3 current. */
async function threeContents(): Promise<Fixture> {
  const fx = makeFixture({ "o.txt": "o" });
  const cfg = JSON.parse(Deno.readTextFileSync(fx.config));
  Deno.writeTextFileSync(
    fx.config,
    JSON.stringify({ ...cfg, retention: { max_versions_per_file: 2 } }),
  );
  for (const text of ["first", "secnd", "third"]) {
    Deno.writeTextFileSync(join(fx.source, "f"), text);
    assert.equal((await run(fx)).code, 0);
  }
  return fx;
}

/** v1's and v2's copies of `f` swapped by hand. */
function swapFirstVersions(fx: Fixture): void {
  const v = (n: number) => join(fx.backup, "versions", "f", `v${n}.bak`);
  Deno.renameSync(v(1), join(fx.backup, "swap"));
  Deno.renameSync(v(2), v(1));
  Deno.renameSync(join(fx.backup, "swap"), v(2));
}

Deno.test("retention never deletes a version's copy that holds other bytes: two versions swapped by hand keep both contents", async () => {
  using fx = await threeContents();
  const v = (n: number) => join(fx.backup, "versions", "f", `v${n}.bak`);
  swapFirstVersions(fx);

  Deno.writeTextFileSync(join(fx.source, "f"), "forth"); // v3 archived: v1 is pruned
  const r = await run(fx);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.ok(
    fx.lastLog().includes(
      "RETENTION forget: versions/f/v1.bak (it holds other bytes than recorded for it: left in place)",
    ),
    fx.lastLog().join("\n"),
  );
  assert.match(r.stderr, /WARNING: source\/f: The copy of its version 1, 'versions\/f\/v1.bak'/);
  assert.match(
    r.stderr,
    /once 'verify --config \S+' finds nothing else, remove 'versions\/f\/v1\.bak', no longer part of the/,
  );
  assert.equal(Deno.readTextFileSync(v(1)), "secnd", "v2's only copy is still there");

  const repair = await run(fx, ["verify", "--repair"]);
  assert.match(
    repair.stdout,
    /REPAIRED: versions\/f\/v2.bak .* from unknown file 'versions\/f\/v1.bak'/,
  );
  const to = join(fx.dir, "restored");
  const restore = await run(fx, ["restore", "f", "--version", "2", "--to", to]);
  assert.equal(restore.code, 0, restore.stdout + restore.stderr);
  assert.equal(Deno.readTextFileSync(join(to, "f")), "secnd");
  // As the warning says: the file left in place, removed once repaired, leaves verify clean.
  assert.equal((await run(fx, ["verify"])).code, 1, "an unknown file until removed");
  Deno.removeSync(v(1));
  const verified = await run(fx, ["verify"]);
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
});

Deno.test("retention deletes a version's copy whose time was changed but whose bytes are as recorded", async () => {
  using fx = await threeContents();
  const v1 = join(fx.backup, "versions", "f", "v1.bak");
  Deno.utimeSync(v1, new Date(2001, 0, 1), new Date(2001, 0, 1)); // touched, bytes the same

  Deno.writeTextFileSync(join(fx.source, "f"), "forth"); // v3 archived: v1 is pruned
  const r = await run(fx);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.ok(fx.lastLog().includes("RETENTION delete: versions/f/v1.bak"), fx.lastLog().join("\n"));
  assert.deepEqual(listDir(join(fx.backup, "versions", "f")), ["v2.bak", "v3.bak"]);
  assert.equal((await run(fx, ["verify"])).code, 0);
});

Deno.test("recovery of a prune journaled without its recorded content (an older version's journal) leaves a copy that holds other bytes in place", async () => {
  using fx = await threeContents();
  const v = (n: number) => join(fx.backup, "versions", "f", `v${n}.bak`);
  swapFirstVersions(fx);

  // Killed once retention's batch is journaled; the journal then made as an older version
  // wrote it, before prunes carried their recorded content.
  Deno.writeTextFileSync(join(fx.source, "f"), "forth");
  const killed = await run(fx, ["run"], { BACKUP_TOOL_FAULT: "journaled:2" });
  assert.equal(killed.code, 137, killed.stdout + killed.stderr);
  {
    using db = new DatabaseSync(join(fx.backup, ".backup-tool", "state.db"));
    const intents = db.prepare("SELECT id, actions FROM intents").all() as {
      id: number;
      actions: string;
    }[];
    const prunes = intents.flatMap((i) => JSON.parse(i.actions) as Record<string, unknown>[])
      .filter((a) => a.type === "prune");
    assert.deepEqual(prunes.map((a) => [a.storedAt, a.recorded !== undefined]), [
      ["versions/f/v1.bak", true],
    ]);
    for (const i of intents) {
      const actions = (JSON.parse(i.actions) as Record<string, unknown>[]).map(
        ({ recorded: _, ...a }) => a,
      );
      db.prepare("UPDATE intents SET actions = ? WHERE id = ?").run(JSON.stringify(actions), i.id);
    }
  }

  const r = await run(fx);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.ok(
    fx.logLines().includes(
      "RETENTION forget: versions/f/v1.bak (it holds other bytes than recorded for it: left in place)",
    ),
    fx.logLines().join("\n"),
  );
  assert.equal(Deno.readTextFileSync(v(1)), "secnd", "v2's only copy is still there");
});
