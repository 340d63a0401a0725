/**
 * `watch` and its config edited while it runs: the edit is read again and applied without a
 * restart (an exclude, a source, a file of exclude_from), followed by a full pass, as a run
 * with the new config would do after the old one; one that does not load, or that changes
 * backup_root, is said and the watch goes on with the config it has. Through the real CLI
 * as a subprocess, and in this process where the watchers' closing is checked (sanitizers).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, listFiles, makeFixture, poll, writeConfig, writeTree } from "./helpers.ts";
import { backedUp, DEADLINE_MS, readOrUndefined, WatchProcess } from "./watch_helpers.ts";
import { loadConfig } from "../src/config/config.ts";
import { exists } from "../src/engine/fs/fsops.ts";
import { startWatch } from "../src/watch/watch.ts";

const WATCH = { watch: { debounce_ms: 200, rescan_interval: 0 } };

/** The fixture's config with `extra` keys (sources, exclude, …) over its own. */
function edit(fx: Fixture, extra: Record<string, unknown>): void {
  writeConfig(fx.config, {
    sources: ["./source"],
    backup_root: "./backup",
    log_dir: "./logs",
    ...WATCH,
    ...extra,
  });
}

/** Waits for `text` on the watch's stderr. */
function says(w: WatchProcess, text: string): Promise<true> {
  return poll(`'${text}' (stderr: ${w.stderr})`, () => w.stderr.includes(text), DEADLINE_MS);
}

Deno.test("watch: an exclude added while it runs applies: the file recorded excluded, its later writes not backed up", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "x.log": "x1\n" }, WATCH);
  await using w = new WatchProcess(fx);
  await w.ready();
  edit(fx, { exclude: ["*.log"] });
  await says(
    w,
    `NOTE: Config '${fx.config}' reloaded: exclude patterns: 1 pattern added ('*.log'); a ` +
      "full pass applies it\n",
  );
  const excluded = "EXCLUDED: source/x.log (now excluded; its copy stays at backup/x.log)";
  await poll("the exclusion logged", () => fx.lastLog().includes(excluded), DEADLINE_MS);
  writeTree(fx.source, { "x.log": "x2\n", "a.txt": "a2\n" });
  await backedUp(fx.backup, "a.txt", "a2\n");
  assert.equal((await w.stop()).code, 0);
  assert.equal(readOrUndefined(join(fx.backup, "x.log")), "x1\n", "its copy kept as it was");
  const log = fx.lastLog();
  assert.ok(log.includes("RESCAN: the config was reloaded"), log.join("\n"));
  assert.ok(!log.some((l) => l.startsWith("WARNING")), log.join("\n"));
});

Deno.test("watch: a source added while it runs is backed up and followed, without a restart", async () => {
  using fx = makeFixture({ "a.txt": "a\n" }, WATCH);
  writeTree(join(fx.dir, "docs"), { "d.txt": "d\n" });
  await using w = new WatchProcess(fx);
  await w.ready();
  edit(fx, { sources: ["./source", "./docs"] });
  await says(w, `NOTE: Config '${fx.config}' reloaded: sources: 'docs' (`);
  await backedUp(fx.backup, "_sources/docs/d.txt", "d\n");
  writeTree(join(fx.dir, "docs"), { "e.txt": "e\n" }); // followed: an event backs it up
  await backedUp(fx.backup, "_sources/docs/e.txt", "e\n");
  writeTree(fx.source, { "b.txt": "b\n" }); // the first source still followed
  await backedUp(fx.backup, "b.txt", "b\n");
  const exit = await w.stop();
  assert.equal(exit.code, 0, exit.stderr);
  // A run after it has nothing to add: the watch did what it would.
  const run = await fx.cli("run", "--json");
  assert.equal(run.code, 0, run.stderr);
  const counts = JSON.parse(run.stdout).counts;
  assert.equal(counts.backup + counts.modified, 0, run.stdout);
});

Deno.test("watch: a broken edit is said with the loader's words, the watch goes on, and fixing it applies it", async () => {
  using fx = makeFixture({ "a.txt": "a\n" }, WATCH);
  await using w = new WatchProcess(fx);
  await w.ready();
  const text = Deno.readTextFileSync(fx.config);
  Deno.writeTextFileSync(fx.config, text.replace(/\}\s*$/, ', "exclude": ["*.log"], }, }\n'));
  await says(w, `WARNING: Cannot load config '${fx.config}': `);
  await says(
    w,
    "the watch goes on with the config it has, and applies it once it loads: at its next change, or once a folder or file it names is there",
  );
  writeTree(fx.source, { "x.log": "x\n" }); // the config it has: no exclude
  await backedUp(fx.backup, "x.log", "x\n");
  edit(fx, { exclude: ["*.log"] });
  await says(w, `NOTE: Config '${fx.config}' reloaded: exclude patterns: 1 pattern added`);
  const excluded = "EXCLUDED: source/x.log (now excluded; its copy stays at backup/x.log)";
  await poll("the exclusion logged", () => fx.lastLog().includes(excluded), DEADLINE_MS);
  const exit = await w.stop();
  assert.equal(exit.code, 0, exit.stderr);
  const warnings = exit.stderr.split("\n").filter((l) => l.startsWith("WARNING"));
  assert.equal(warnings.length, 1, exit.stderr);
});

Deno.test("watch: an edit saved between the config's load and the session's start is applied", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "x.log": "x1\n" }, WATCH);
  const marker = join(fx.dir, "paused");
  // Held once the config is loaded, before anything else: the edit is saved then.
  await using w = new WatchProcess(fx, [], { BACKUP_TOOL_PAUSE: `loaded:1:${marker}` });
  await poll("the watch held after its load", () => exists(marker), DEADLINE_MS);
  edit(fx, { exclude: ["*.log"] });
  Deno.removeSync(marker);
  await w.ready();
  await says(
    w,
    `NOTE: Config '${fx.config}' reloaded: exclude patterns: 1 pattern added ('*.log')`,
  );
  const excluded = "EXCLUDED: source/x.log (now excluded; its copy stays at backup/x.log)";
  await poll("the exclusion logged", () => fx.lastLog().includes(excluded), DEADLINE_MS);
  assert.equal((await w.stop()).code, 0);
});

Deno.test("watch: backup_root changed while it runs is said to need a restart, and the config it has kept", async () => {
  using fx = makeFixture({ "a.txt": "a\n" }, WATCH);
  await using w = new WatchProcess(fx);
  await w.ready();
  edit(fx, { backup_root: "./other", exclude: ["*.log"] });
  await says(w, `WARNING: The config '${fx.config}' changed 'backup_root' (from '${fx.backup}'`);
  await says(w, "stop it and start it again to apply it");
  // The rest of the edit is not applied either: x.log backed up, to the root it holds.
  writeTree(fx.source, { "x.log": "x\n" });
  await backedUp(fx.backup, "x.log", "x\n");
  const exit = await w.stop();
  assert.equal(exit.code, 0, exit.stderr);
  assert.equal(listFiles(join(fx.dir, "other")).length, 0, "nothing in the new root");
  assert.ok(!exit.stderr.includes("reloaded"), exit.stderr);
});

Deno.test("watch --quiet: an edit of a file exclude_from lists applies while it runs, said all the same", async () => {
  using fx = makeFixture({ "a.txt": "a\n", "x.log": "x1\n" }, WATCH);
  const list = join(fx.dir, "exclude.txt");
  Deno.writeTextFileSync(list, "*.tmp\n");
  edit(fx, { exclude_from: ["exclude.txt"] });
  // --quiet keeps the note (watch.md's The config, watch --help).
  await using w = new WatchProcess(fx, ["--quiet"]);
  await w.ready();
  Deno.writeTextFileSync(list, "*.tmp\n*.log\n");
  await says(
    w,
    `NOTE: Config '${fx.config}' reloaded: exclude patterns: 1 pattern added ('*.log'); a ` +
      "full pass applies it\n",
  );
  const excluded = "EXCLUDED: source/x.log (now excluded; its copy stays at backup/x.log)";
  await poll("the exclusion logged", () => fx.lastLog().includes(excluded), DEADLINE_MS);
  writeTree(fx.source, { "y.log": "y\n", "b.txt": "b\n" });
  await backedUp(fx.backup, "b.txt", "b\n");
  assert.equal((await w.stop()).code, 0);
  assert.equal(readOrUndefined(join(fx.backup, "y.log")), undefined);
  assert.equal(w.stdout, "");
});

Deno.test("watch: a source added then removed while it runs leaves no watcher open (in this process)", async () => {
  using fx = makeFixture({ "a.txt": "a\n" }, WATCH);
  const docs = join(fx.dir, "docs");
  writeTree(docs, { "d.txt": "d\n" });
  const notes: string[] = [];
  const handle = await startWatch(loadConfig(fx.config), {
    onNote: (m) => notes.push(m),
    configCheckMs: 50,
  });
  try {
    await handle.ready;
    edit(fx, { sources: ["./source", "./docs"] });
    await backedUp(fx.backup, "_sources/docs/d.txt", "d\n");
    edit(fx, {});
    await poll("the source removed", () => notes.some((n) => /'docs' removed/.test(n)));
    await poll("its pass done", () => fx.lastLog().at(-1)?.startsWith("RESCAN done"));
    writeTree(docs, { "e.txt": "e\n" });
    writeTree(fx.source, { "b.txt": "b\n" });
    await backedUp(fx.backup, "b.txt", "b\n");
    assert.equal(readOrUndefined(join(fx.backup, "_sources/docs/e.txt")), undefined);
  } finally {
    await handle.stop();
  }
});

Deno.test("watch: killed while it applies a reloaded config (its sources recorded) or in the pass after, the next run completes it", async () => {
  for (const fault of ["reloaded:1", "staged:2"]) {
    using fx = makeFixture({ "a.txt": "a\n" }, WATCH);
    writeTree(join(fx.dir, "docs"), { "d.txt": "d\n" });
    // The first pass stages a.txt (`staged` 1); the reload's pass d.txt (2).
    await using w = new WatchProcess(fx, [], { BACKUP_TOOL_FAULT: fault });
    await w.ready();
    edit(fx, { sources: ["./source", "./docs"] });
    const exit = await w.exited();
    assert.equal(exit.code, 137, `${fault}: ${exit.stderr}`);
    const run = await fx.cli("run");
    assert.equal(run.code, 0, `${fault}: ${run.stderr}`);
    assert.equal(readOrUndefined(join(fx.backup, "_sources/docs/d.txt")), "d\n", fault);
    const verify = await fx.cli("verify");
    assert.equal(verify.code, 0, `${fault}: ${verify.stdout}${verify.stderr}`);
    const again = await fx.cli("run", "--json");
    const counts = JSON.parse(again.stdout).counts;
    assert.equal(counts.backup + counts.modified + counts.delete, 0, `${fault}: ${again.stdout}`);
  }
});
