/**
 * The upgrade path, end to end, on a backup root a real older version made: the committed
 * root of testdata/old_roots/bd407c4 (the oldest version, schema 1; its README says how it
 * was made and at which moments). This version restores it as of each moment that version
 * recorded (bytes, modes, mtimes, the symlink), verifies it, plans and runs on it (which
 * migrates it), restores the old moments again after that, and refuses to start a new
 * backup where the root has gone while that version's logs, which name no root, are there.
 * The fixture is copied into a temporary folder first: the test never changes it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { makeFixture, REPO, writeTree } from "./helpers.ts";
import { SCHEMA_VERSION } from "../src/state/schema.ts";

const FIXTURE = join(REPO, "testdata", "old_roots", "bd407c4");

/** What a restore gives of one entry: its bytes or link target, mode and mtime (ms). */
type Entry = { text?: string; link?: string; mode?: number; mtime?: string };

const T12 = "2026-11-28T12:00:00.000Z";
/** Each moment the old version recorded (after each of its runs), and the tree as of it. */
const MOMENTS: [string, Record<string, Entry>][] = [
  ["2026-12-05T10:07:52.882Z", {
    "a.txt": { text: "one\n", mode: 0o644, mtime: T12 },
    "dup.txt": { text: "one\n", mode: 0o644, mtime: T12 },
    "d/b.txt": { text: "bee\n", mode: 0o640, mtime: T12 },
    "empty.txt": { text: "", mode: 0o644, mtime: T12 },
    "link": { link: "a.txt" },
  }],
  ["2026-12-05T10:07:55.209Z", {
    "a.txt": { text: "two\n", mode: 0o644, mtime: "2026-11-28T13:00:00.000Z" },
    "c.txt": { text: "new\n", mode: 0o644, mtime: "2026-11-28T13:00:00.000Z" },
    "dup.txt": { text: "one\n", mode: 0o644, mtime: T12 },
    "empty.txt": { text: "", mode: 0o644, mtime: T12 },
    "link": { link: "a.txt" },
  }],
  ["2026-12-05T10:07:57.525Z", {
    "a.txt": { text: "three\n", mode: 0o644, mtime: "2026-11-28T14:00:00.000Z" },
    "c.txt": { text: "new\n", mode: 0o644, mtime: "2026-11-28T13:00:00.000Z" },
    "empty.txt": { text: "", mode: 0o644, mtime: T12 },
    "link": { link: "a.txt" },
  }],
];

/** Every file and symlink under `root`, as `Entry`s by relative path. */
function entries(root: string, at = ""): Record<string, Entry> {
  const out: Record<string, Entry> = {};
  for (const e of Deno.readDirSync(join(root, at))) {
    const rel = at === "" ? e.name : `${at}/${e.name}`;
    const path = join(root, rel);
    if (e.isDirectory) Object.assign(out, entries(root, rel));
    else if (e.isSymlink) out[rel] = { link: Deno.readLinkSync(path) };
    else {
      const st = Deno.statSync(path);
      out[rel] = {
        text: Deno.readTextFileSync(path),
        mode: st.mode! & 0o7777,
        mtime: st.mtime!.toISOString(),
      };
    }
  }
  return out;
}

function copyTree(from: string, to: string): void {
  Deno.mkdirSync(to, { recursive: true });
  for (const e of Deno.readDirSync(from)) {
    const [src, dst] = [join(from, e.name), join(to, e.name)];
    if (e.isDirectory) copyTree(src, dst);
    else if (e.isSymlink) Deno.symlinkSync(Deno.readLinkSync(src), dst);
    else {
      Deno.copyFileSync(src, dst);
      Deno.chmodSync(dst, Deno.statSync(src).mode! & 0o777);
    }
  }
}

function schemaOf(db: string): number {
  const conn = new DatabaseSync(db, { readOnly: true });
  try {
    return (conn.prepare("PRAGMA user_version").get() as { user_version: number }).user_version;
  } finally {
    conn.close();
  }
}

Deno.test("a backup root of the oldest version (bd407c4, schema 1): restored at each moment it recorded, verified, run on, and restored again", async () => {
  using fx = makeFixture({ "a.txt": "three\n", "c.txt": "new\n", "empty.txt": "" });
  Deno.symlinkSync("a.txt", join(fx.source, "link"));
  // The source as the last run saw it: a file's new mtime alone would update its copy's.
  for (const [name, entry] of Object.entries(MOMENTS[2][1])) {
    if (entry.mtime) Deno.utimeSync(join(fx.source, name), new Date(), new Date(entry.mtime));
  }
  copyTree(join(FIXTURE, "backup"), fx.backup);
  copyTree(join(FIXTURE, "logs"), fx.logs);
  const state = join(fx.backup, ".backup-tool", "state.db");
  assert.equal(schemaOf(state), 1);

  const restoreAll = async (tag: string) => {
    for (const [i, [moment, tree]] of MOMENTS.entries()) {
      const to = join(fx.dir, `${tag}${i + 1}`);
      const r = await fx.cli("restore", "--at", moment, "--to", to);
      assert.equal(r.code, 0, `${tag} ${moment}: ${r.stderr}`);
      assert.deepEqual(entries(to), tree, `${tag}: the tree as of ${moment}`);
    }
  };
  await restoreAll("before");
  const history = JSON.parse((await fx.cli("history", "a.txt", "--json")).stdout);
  assert.equal(history.versions.length, 3);
  const verified = await fx.cli("verify");
  assert.equal(verified.code, 0, verified.stderr);
  assert.match(verified.stdout, /all 8 stored copies present, 8 re-hashed: intact/);
  const plan = await fx.cli("plan");
  assert.equal(plan.code, 0, plan.stderr);
  assert.match(plan.stdout, /Plan: 0 new, 0 updated, 0 duplicate, 4 unchanged, 0 deleted/);
  assert.equal(schemaOf(state), 1, "plan, restore and verify leave the schema as it was");

  const run = await fx.cli("run");
  assert.equal(run.code, 0, run.stderr);
  assert.equal(schemaOf(state), SCHEMA_VERSION);
  writeTree(fx.source, { "a.txt": "four\n" });
  assert.equal((await fx.cli("run")).code, 0);
  await restoreAll("after");
  assert.match((await fx.cli("verify")).stdout, /all 9 stored copies present, 9 re-hashed: intact/);

  // The disk not mounted: that version's logs name no root, and still keep a run out.
  Deno.removeSync(fx.backup, { recursive: true });
  const refused = await fx.cli("run");
  assert.equal(refused.code, 2, refused.stdout);
  assert.throws(() => Deno.lstatSync(fx.backup), Deno.errors.NotFound);
});
