/**
 * End-to-end tests of run logs, through the real tool: rotation to `log_retention` (the
 * removals logged at a run's start), each backup root rotating its own logs in a shared
 * log_dir, and a log_dir inside a source, whose run logs alone are skipped and rotated,
 * never the user's files there.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, runCli, writeConfig } from "./helpers.ts";
import { TREE } from "./cli_helpers.ts";

Deno.test("log rotation: with log_retention 3, five runs leave three logs and log the removals", async () => {
  using fx = makeFixture(TREE, { log_retention: 3 });
  for (let i = 0; i < 5; i++) assert.equal((await fx.cli("run")).code, 0);
  const logs = [...Deno.readDirSync(fx.logs)].map((e) => e.name).sort();
  assert.equal(logs.length, 3, logs.join(", "));
  const removed = fx.logLines().filter((l) => l.startsWith("LOG ROTATE delete: "));
  assert.equal(removed.length, 2, removed.join("\n"));
  for (const line of removed) {
    assert.ok(!logs.includes(line.slice("LOG ROTATE delete: ".length)), line);
  }
  // Removals come at the start: each log's last line says how its run ended.
  assert.equal(fx.lastLog().at(-1), "Run complete");
  assert.match(fx.lastLog()[1], /^LOG ROTATE delete: /);
});

Deno.test("log_dir inside a source: only the run logs are skipped and rotated, never other files, even one named like them", async () => {
  using fx = makeFixture({
    "a.txt": "a",
    "logs/app.log": "the app's own log",
    "logs/notes.txt": "n",
    "logs/2001-01-01T00-00-00.000Z-run.log": "named like a run log, but not one",
  }, {
    log_dir: "./source/logs",
    log_retention: 1,
  });
  for (let i = 0; i < 3; i++) assert.equal((await fx.cli("run")).code, 0);
  const inSource = [...Deno.readDirSync(join(fx.source, "logs"))].map((e) => e.name).sort();
  // The user's three files, and the last run log.
  assert.equal(inSource.length, 4, inSource.join(", "));
  assert.deepEqual([inSource[0], ...inSource.slice(2)], [
    "2001-01-01T00-00-00.000Z-run.log",
    "app.log",
    "notes.txt",
  ]);
  const stored = [...Deno.readDirSync(join(fx.backup, "logs"))].map((e) => e.name).sort();
  assert.deepEqual(stored, ["2001-01-01T00-00-00.000Z-run.log", "app.log", "notes.txt"]);
  const last = await fx.cli("run");
  assert.match(last.stdout, /0 new, 0 updated, 0 duplicate, 4 unchanged, 0 deleted/);
});

Deno.test("log_dir inside a source: a large first backup (walked by the staging worker) skips the run logs too", async () => {
  const tree = Object.fromEntries(
    Array.from({ length: 1100 }, (_, i) => [`d/f${i}.txt`, `file ${i}\n`]),
  );
  using fx = makeFixture({ ...tree, "zz-logs/notes.txt": "n" }, { log_dir: "./source/zz-logs" });
  assert.equal((await fx.cli("run")).code, 0);
  const stored = [...Deno.readDirSync(join(fx.backup, "zz-logs"))].map((e) => e.name);
  assert.deepEqual(stored, ["notes.txt"]);
});

Deno.test("log rotation: two jobs sharing a log_dir each rotate their own logs, never another's or a file merely named so", async () => {
  using fx = makeFixture(TREE, { log_retention: 2 });
  const other = join(fx.dir, "other.jsonc");
  writeConfig(other, {
    sources: ["./source"],
    backup_root: "./backup2",
    log_dir: "./logs",
    log_retention: 2,
  });
  const notOurs = join(fx.logs, "2001-01-01T00-00-00.000Z-run.log");
  Deno.mkdirSync(fx.logs, { recursive: true });
  Deno.writeTextFileSync(notOurs, "someone's own notes\n");
  for (let i = 0; i < 3; i++) assert.equal((await fx.cli("run")).code, 0);
  for (let i = 0; i < 3; i++) {
    assert.equal((await runCli(["run", "--config", other])).code, 0);
  }
  const logs = [...Deno.readDirSync(fx.logs)].map((e) => e.name).sort();
  const rootOf = (name: string) =>
    /for backup root '(.*)'$/m.exec(Deno.readTextFileSync(join(fx.logs, name)))?.[1];
  const roots = logs.map(rootOf).filter((r) => r !== undefined).map((r) => r!.slice(fx.dir.length));
  assert.deepEqual(roots.sort(), ["/backup", "/backup", "/backup2", "/backup2"]);
  assert.equal(Deno.readTextFileSync(notOurs), "someone's own notes\n");
});
