/**
 * Retention by period (`retention.keep_daily`, `keep_weekly`, `keep_monthly`): a file saved
 * many times a day keeps, beside its newest versions, the newest of each of its newest
 * days, each restorable as of that day's end; the rest is pruned and logged. And
 * `keep_deleted_days`: the copies of files deleted longer ago are pruned. With `time_zone`,
 * the days are that zone's whatever the process's `TZ`. The runs are made in the past
 * (Date.now moved back, in process, each file's mtime with it), scoped as a watch
 * session's passes are or full as `run`'s; those that need a zone of their own, in a child
 * process with its `TZ`; restores go through the CLI.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../src/config/config.ts";
import { backupOnce } from "../src/engine/backup.ts";
import { StateStore } from "../src/state/store.ts";
import { evalInZone, type Fixture, makeFixture, runCli, writeConfig } from "./helpers.ts";
import { JanuaryRuns } from "./january_runs.ts";

/** The modules a child program (backUpEditsIn) imports, by absolute URL. */
const CONFIG = new URL("../src/config/config.ts", import.meta.url).href;
const BACKUP = new URL("../src/engine/backup.ts", import.meta.url).href;

/** Edits of doc.txt: [day of January 2026, hour], local time; edit n is content number n. */
const EDITS: [number, number][] = [
  [1, 9],
  [1, 12],
  [1, 17],
  [2, 9],
  [2, 13],
  [3, 8],
  [3, 10],
  [3, 11],
  [3, 15],
];

const text = (n: number) => `edit ${n}\n`;

/**
 * Each edit of EDITS written and backed up at its time: by full runs, or by passes scoped
 * to doc.txt (`scoped`), as a watch session's are.
 */
async function backUpEdits(fx: Fixture, scoped: boolean): Promise<void> {
  const realNow = Date.now;
  const doc = join(fx.source, "doc.txt");
  try {
    for (const [i, [day, hour]] of EDITS.entries()) {
      const at = new Date(2026, 0, day, hour).getTime();
      Deno.writeTextFileSync(doc, text(i + 1));
      Deno.utimeSync(doc, new Date(at - 60_000), new Date(at - 60_000));
      Date.now = () => at;
      const scope = scoped && i > 0 ? new Map([["source", [doc]]]) : undefined;
      const summary = await backupOnce(loadConfig(fx.config), { scope });
      assert.equal(summary.exitCode, 0);
    }
  } finally {
    Date.now = realNow;
  }
}

/** The content numbers versions/doc.txt/ holds. */
function storedVersions(fx: Fixture): number[] {
  return [...Deno.readDirSync(join(fx.backup, "versions", "doc.txt"))]
    .map((e) => Number(/^v(\d+)\.bak$/.exec(e.name)![1])).sort((a, b) => a - b);
}

/** A file (doc.txt) restored as of `at` (local time), or the restore's failure. */
async function restoredAt(fx: Fixture, at: string, file = "doc.txt"): Promise<string> {
  const to = join(fx.dir, `restored-${file}-${at.replace(/\W/g, "")}`);
  const r = await fx.cli("restore", file, "--at", at, "--to", to);
  if (r.code !== 0) return `exit ${r.code}: ${r.stdout}${r.stderr}`;
  return Deno.readTextFileSync(join(to, file));
}

for (const scoped of [false, true]) {
  Deno.test(`retention keep_daily (${scoped ? "scoped passes" : "runs"}): each of the newest days keeps its last version`, async () => {
    using fx = makeFixture({}, { retention: { max_versions_per_file: 2, keep_daily: 2 } });
    await backUpEdits(fx, scoped);
    // Versions 1-8 (9 is the latest copy): the newest 2 (7, 8), and the newest of each of
    // the newest 2 days that have versions, 3 January (8) and 2 January (5).
    assert.deepEqual(storedVersions(fx), [5, 7, 8]);
    const deleted = fx.logLines().filter((l) => l.startsWith("RETENTION delete:"));
    assert.deepEqual(
      deleted,
      [1, 2, 3, 4, 6].map((n) => `RETENTION delete: versions/doc.txt/v${n}.bak`),
    );
    assert.equal(await restoredAt(fx, "2026-01-02 23:00"), text(5));
    assert.equal(await restoredAt(fx, "2026-01-03 10:30"), text(7));
    assert.match(await restoredAt(fx, "2026-01-01 23:00"), /pruned/);
  });
}

Deno.test("retention: a keep_daily lowered keeps fewer days from the next run on", async () => {
  using fx = makeFixture({}, { retention: { max_versions_per_file: 2, keep_daily: 3 } });
  await backUpEdits(fx, false);
  assert.deepEqual(storedVersions(fx), [3, 5, 7, 8]);
  writeConfig(fx.config, {
    sources: ["./source"],
    backup_root: "./backup",
    log_dir: "./logs",
    retention: { max_versions_per_file: 2, keep_daily: 1 },
  });
  assert.equal((await fx.cli("run")).code, 0);
  assert.deepEqual(storedVersions(fx), [7, 8]);
  assert.deepEqual(fx.lastLog().filter((l) => l.startsWith("RETENTION delete:")), [
    "RETENTION delete: versions/doc.txt/v3.bak",
    "RETENTION delete: versions/doc.txt/v5.bak",
  ]);
});

Deno.test("retention: without keep_* only the newest versions are kept, as before", async () => {
  using fx = makeFixture({}, { retention: { max_versions_per_file: 2 } });
  await backUpEdits(fx, true);
  assert.deepEqual(storedVersions(fx), [7, 8]);
});

Deno.test("retention: plan predicts the prunes by period that the run then makes", async () => {
  using fx = makeFixture({}, { retention: { max_versions_per_file: 2, keep_daily: 2 } });
  await backUpEdits(fx, false);
  Deno.writeTextFileSync(join(fx.source, "doc.txt"), text(10));
  // Version 9 joins 3 January: its newest, and one of the newest 2; 7 is neither now.
  const prune = (lines: string[]) => lines.filter((l) => l.startsWith("RETENTION delete:"));
  const plan = await fx.cli("plan", "--all");
  assert.equal(plan.code, 0);
  assert.deepEqual(prune(plan.stdout.split("\n").map((l) => l.trim())), [
    "RETENTION delete: versions/doc.txt/v7.bak",
  ]);
  assert.equal((await fx.cli("run")).code, 0);
  assert.deepEqual(prune(fx.lastLog()), ["RETENTION delete: versions/doc.txt/v7.bak"]);
  assert.deepEqual(storedVersions(fx), [5, 8, 9]);
});

Deno.test("retention: the versions a run lets go are read back by id, only versions, with their places and contents as recorded", async () => {
  using fx = makeFixture({}, { retention: { max_versions_per_file: 2, keep_daily: 2 } });
  await backUpEdits(fx, false);
  const store = StateStore.open(join(fx.backup, ".backup-tool", "state.db"), { readOnly: true });
  try {
    readBackByIds(store);
  } finally {
    store.close();
  }
});

/** Versions 5, 7 and 8 of doc.txt as backUpEdits left them (max 2, keep_daily 2). */
function readBackByIds(store: StateStore): void {
  const copies = store.copiesOf("source/doc.txt");
  const id = (seq: number) => copies.find((c) => c.seq === seq)!.id;
  // 9 is the latest copy, 1 was pruned: neither is a version a prune could be given.
  const read = store.storedVersions([id(9), id(1), id(7), id(5)]);
  assert.deepEqual(read.map((v) => [v.seq, v.storedAt]), [
    [7, "versions/doc.txt/v7.bak"],
    [5, "versions/doc.txt/v5.bak"],
  ]);
  assert.deepEqual(read[0].recorded, {
    size: text(7).length,
    mtimeMs: copies.find((c) => c.seq === 7)!.mtimeMs,
    hash: copies.find((c) => c.seq === 7)!.hash,
    algo: "sha256",
  });
  // The rule reads four columns of each version of the files over max (see copy_queries.ts).
  assert.deepEqual(
    store.datedVersionsOverLimit(2).map(({ seq }) => seq).sort((a, b) => a - b),
    [5, 7, 8],
  );
}

Deno.test("retention: a version let go that holds other bytes than recorded is left in place and said", async () => {
  using fx = makeFixture({}, { retention: { max_versions_per_file: 2, keep_daily: 2 } });
  await backUpEdits(fx, false);
  // v5 and v7 swapped by hand (one size: only the digest tells them apart).
  const v = (n: number) => join(fx.backup, "versions", "doc.txt", `v${n}.bak`);
  Deno.renameSync(v(5), join(fx.dir, "swap"));
  Deno.renameSync(v(7), v(5));
  Deno.renameSync(join(fx.dir, "swap"), v(7));
  writeConfig(fx.config, {
    sources: ["./source"],
    backup_root: "./backup",
    log_dir: "./logs",
    retention: { max_versions_per_file: 2, keep_daily: 1 },
  });
  const run = await fx.cli("run");
  assert.equal(run.code, 1, run.stdout + run.stderr);
  assert.deepEqual(fx.lastLog().filter((l) => l.startsWith("RETENTION")), [
    "RETENTION forget: versions/doc.txt/v5.bak (it holds other bytes than recorded for it: left in place)",
  ]);
  assert.equal(Deno.readTextFileSync(v(5)), text(7));
});

/** Edits at UTC times whose days differ in Tokyo (UTC+9), in UTC and in New York (UTC-5). */
const ZONED_EDITS = [
  Date.UTC(2026, 0, 1, 14), // 1 January 23:00 in Tokyo, 09:00 in New York
  Date.UTC(2026, 0, 1, 16), // 2 January 01:00 in Tokyo; 1 January in UTC and New York
  Date.UTC(2026, 0, 2, 10), // 2 January 19:00 in Tokyo, 05:00 in New York
  Date.UTC(2026, 0, 2, 16), // 3 January 01:00 in Tokyo; 2 January in UTC and New York
  Date.UTC(2026, 0, 3, 2), // 3 January 11:00 in Tokyo; 2 January 21:00 in New York
  Date.UTC(2026, 0, 3, 5), // the latest copy
];

/**
 * Each of `times` written to doc.txt and backed up at its time by a full run (as
 * backUpEdits does), in a process whose local time is in `zone` (evalInZone): a `TZ` set
 * here would move the local time of the test files running beside this one.
 */
async function backUpEditsIn(zone: string, fx: Fixture, times: number[]): Promise<void> {
  const exitCodes = await evalInZone(
    zone,
    `import { loadConfig } from ${JSON.stringify(CONFIG)};
    import { backupOnce } from ${JSON.stringify(BACKUP)};
    const doc = ${JSON.stringify(join(fx.source, "doc.txt"))};
    const exitCodes = [];
    for (const [i, at] of ${JSON.stringify(times)}.entries()) {
      Deno.writeTextFileSync(doc, "edit " + (i + 1) + "\\n");
      Deno.utimeSync(doc, new Date(at - 60_000), new Date(at - 60_000));
      Date.now = () => at;
      const summary = await backupOnce(loadConfig(${JSON.stringify(fx.config)}));
      exitCodes.push(summary.exitCode);
    }
    console.log(JSON.stringify(exitCodes));`,
  );
  assert.deepEqual(exitCodes, times.map(() => 0));
}

Deno.test("retention time_zone: days are cut in that zone, whatever zone each run is in", async () => {
  const retention = { max_versions_per_file: 1, keep_daily: 2, time_zone: "Asia/Tokyo" };
  using fx = makeFixture({}, { retention });
  await backUpEditsIn("America/New_York", fx, ZONED_EDITS);
  // Versions 1-5: the newest (5), the newest of Tokyo's 3 January (5) and 2 January (3).
  assert.deepEqual(storedVersions(fx), [3, 5]);
  // A run in another zone (a scheduled job in UTC, where 4 is 2 January's newest) keeps them.
  const run = await runCli(["run", "--config", fx.config], { env: { TZ: "UTC" } });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.deepEqual(fx.lastLog().filter((l) => l.startsWith("RETENTION")), []);
  assert.deepEqual(storedVersions(fx), [3, 5]);
  assert.equal(await restoredAt(fx, "2026-01-02T23:59:59+09:00"), text(3));
  // A zone the tool does not know: exit 2, one line naming the file, the key and the value.
  writeConfig(fx.config, {
    sources: ["./source"],
    backup_root: "./backup",
    log_dir: "./logs",
    retention: { ...retention, keep_daily: 1, time_zone: "Asia/Tokio" },
  });
  const refused = await fx.cli("run");
  assert.equal(refused.code, 2);
  assert.equal(
    refused.stderr,
    `Cannot load config '${fx.config}': unknown 'retention.time_zone' 'Asia/Tokio' (did you` +
      ` mean 'Asia/Tokyo'?): write "local" (the zone each command runs in) or an IANA zone` +
      ` name such as "Europe/Berlin", "UTC" or "America/New_York"\n`,
  );
  assert.deepEqual(storedVersions(fx), [3, 5]);
  // Without time_zone, the process's zone cuts them: New York's 2 January (5), 1 January (2).
  using local = makeFixture({}, { retention: { max_versions_per_file: 1, keep_daily: 2 } });
  await backUpEditsIn("America/New_York", local, ZONED_EDITS);
  assert.deepEqual(storedVersions(local), [2, 5]);
});

Deno.test("retention keep_deleted_days: a full pass prunes the copies of files deleted longer ago, a scoped one none", async () => {
  using fx = makeFixture({ "old.txt": "old\n", "recent.txt": "recent\n", "kept.txt": "kept\n" }, {
    retention: { keep_deleted_days: 30 },
  });
  {
    using runs = new JanuaryRuns(fx);
    for (const name of ["old.txt", "recent.txt", "kept.txt"]) runs.write(name, 1);
    await runs.runAt(1);
    Deno.removeSync(join(fx.source, "old.txt"));
    await runs.runAt(2); // old.txt deleted on 2 January
    Deno.removeSync(join(fx.source, "recent.txt"));
    await runs.runAt(10); // recent.txt on 10 January
    const kept = new Map([["source", [join(fx.source, "kept.txt")]]]);
    await runs.runAt(35, kept); // a watch session's pass: none pruned
    assert.ok(isFile(join(fx.backup, "_deleted", "old.txt")));
    await runs.runAt(35); // 30 days before is 5 January: old.txt's copy goes
  }
  assert.ok(!isFile(join(fx.backup, "_deleted", "old.txt")));
  assert.ok(isFile(join(fx.backup, "_deleted", "recent.txt")));
  assert.deepEqual(fx.logLines().filter((l) => l.startsWith("RETENTION delete:")), [
    "RETENTION delete: _deleted/old.txt",
  ]);
  assert.match(await restoredAt(fx, "2026-01-01 23:00", "old.txt"), /pruned/);
  assert.equal(await restoredAt(fx, "2026-01-05 23:00", "recent.txt"), "recent\n");
});

Deno.test("retention keep_deleted_days: only deleted files' copies go, each by its own deletion, their folder kept for another", async () => {
  using fx = makeFixture({
    "dir/old.txt": "old\n",
    "dir/recent.txt": "recent\n",
    "again.txt": "again 1\n",
    "kept.txt": "kept 1\n",
  }, { retention: { keep_deleted_days: 30 }, safety: { max_delete_percent: 100 } });
  {
    using runs = new JanuaryRuns(fx);
    for (const name of ["dir/old.txt", "dir/recent.txt", "again.txt", "kept.txt"]) {
      runs.write(name, 1);
    }
    await runs.runAt(1);
    runs.write("kept.txt", 2, "kept 2\n"); // its version 1, replaced on 2 January, is no deleted file
    Deno.removeSync(join(fx.source, "dir", "old.txt"));
    Deno.removeSync(join(fx.source, "again.txt"));
    await runs.runAt(2);
    runs.write("again.txt", 9, "again 2\n");
    await runs.runAt(9);
    Deno.removeSync(join(fx.source, "dir", "recent.txt"));
    Deno.removeSync(join(fx.source, "again.txt")); // to _deleted/again.txt.~2
    await runs.runAt(10);
    await runs.runAt(35); // 30 days before is 5 January
  }
  assert.deepEqual(fx.lastLog().filter((l) => l.startsWith("RETENTION")), [
    "RETENTION delete: _deleted/again.txt",
    "RETENTION delete: _deleted/dir/old.txt",
  ]);
  assert.ok(isFile(join(fx.backup, "_deleted", "again.txt.~2")));
  assert.ok(isFile(join(fx.backup, "_deleted", "dir", "recent.txt")));
  assert.ok(isFile(join(fx.backup, "versions", "kept.txt", "v1.bak")));
  assert.equal(await restoredAt(fx, "2026-01-01 23:00", "kept.txt"), "kept 1\n");
  assert.equal(await restoredAt(fx, "2026-01-09 23:00", "again.txt"), "again 2\n");
  assert.match(await restoredAt(fx, "2026-01-01 23:00", "again.txt"), /pruned/);
  assert.match((await fx.cli("history", "again.txt")).stdout, /v1 .* pruned by retention/);
  const verify = await fx.cli("verify");
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
});

/** Whether a file is at `path`. */
function isFile(path: string): boolean {
  try {
    return Deno.lstatSync(path).isFile;
  } catch {
    return false;
  }
}
