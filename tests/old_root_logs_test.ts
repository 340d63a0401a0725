/**
 * The logs of a backup root a config no longer uses: `log_retention` never rotates them
 * (they may be another job's, and they guard that root against an unmounted disk), and
 * docs/logs.md gives the shell lines that list them (the block between
 * `old-root-logs:begin` and `old-root-logs:end`), run here with bash on real logs.
 */
import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { makeFixture, REPO, runCli, writeConfig } from "./helpers.ts";

function docScript(): string {
  const doc = Deno.readTextFileSync(join(REPO, "docs", "logs.md"));
  const block = doc.match(
    /<!-- old-root-logs:begin -->\s*```sh\n([\s\S]*?)```\s*<!-- old-root-logs:end -->/,
  );
  assert.ok(block, "docs/logs.md has no block between <!-- old-root-logs:begin --> and :end -->");
  return block[1];
}

/** Runs docs/logs.md's lines in `dir` for the root `old` (`rm`: with `echo` made `rm --`). */
async function oldRootLogs(dir: string, old: string, rm = false): Promise<string[]> {
  let script = docScript().replace(/^old=.*$/m, `old='${old}'`);
  if (rm) script = script.replace(/echo "\$f"/, 'rm -- "$f"');
  const out = await new Deno.Command("bash", { args: ["-c", script], cwd: dir }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l !== "").sort();
}

const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

Deno.test("logs of an old backup root stay, and docs/logs.md's lines list and remove them alone", async () => {
  using fx = makeFixture({ "a.txt": "a" });
  const config = (root: string) =>
    writeConfig(fx.config, {
      sources: ["./source"],
      backup_root: root,
      log_dir: "./logs",
      log_retention: 1,
    });
  config("./old");
  for (let i = 0; i < 2; i++) assert.equal((await fx.cli("run")).code, 0);
  const oldLogs = names(fx.logs);
  // Another job sharing the log_dir, whose root still exists: its logs are its own.
  const other = join(fx.dir, "other.jsonc");
  writeConfig(other, { sources: ["./source"], backup_root: "./other", log_dir: "./logs" });
  assert.equal((await runCli(["run", "--config", other])).code, 0);
  const otherLogs = names(fx.logs).filter((n) => !oldLogs.includes(n));

  config("./new"); // backup_root moved
  for (let i = 0; i < 3; i++) assert.equal((await fx.cli("run")).code, 0);
  const now = names(fx.logs);
  assert.equal(now.length, oldLogs.length + otherLogs.length + 1); // the new root's newest
  for (const n of [...oldLogs, ...otherLogs]) assert.ok(now.includes(n), `${n} kept`);

  const listed = await oldRootLogs(fx.dir, join(fx.dir, "old"));
  assert.deepEqual(listed.map((f) => basename(f)), oldLogs);
  assert.deepEqual(await oldRootLogs(fx.dir, join(fx.dir, "old"), true), []);
  assert.deepEqual(names(fx.logs), now.filter((n) => !oldLogs.includes(n)));
  // A root whose name another's begins with is not taken for it.
  assert.deepEqual(await oldRootLogs(fx.dir, join(fx.dir, "othe")), []);
});
