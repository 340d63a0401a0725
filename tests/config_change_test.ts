/**
 * What a user does to the config between runs: each change refused is one line whose
 * remedy, applied as written, makes a config that runs; nothing is made before.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { listTree } from "../src/config/test_util.ts";
import { runCli, writeConfig, writeTree } from "./helpers.ts";

/** A scratch folder (its real path) holding `source/a.txt`. */
function scratch(): { dir: string; [Symbol.dispose](): void } {
  const dir = Deno.realPathSync(Deno.makeTempDirSync({ prefix: "bt-config-change-" }));
  writeTree(join(dir, "source"), { "a.txt": "a\n" });
  return { dir, [Symbol.dispose]: () => Deno.removeSync(dir, { recursive: true }) };
}

/** The `"log_dir": …` value a refusal's remedy gives, parsed as the config would hold it. */
function suggestedLogDir(stderr: string): string {
  const m = stderr.match(/e\.g\. "log_dir": ("(?:[^"\\]|\\.)*")\n$/);
  assert.ok(m, `no log_dir example in: ${stderr}`);
  return JSON.parse(m[1]);
}

Deno.test("log_dir in or at the backup root: the example given is a folder outside it, and a run with it works", async () => {
  using s = scratch();
  // The config kept at the top of the backup disk (backup_root "."), log_dir left at its
  // default ("./logs", inside it); and the backup root pointed at the log folder itself.
  const cases: { configDir: string; config: Record<string, unknown>; says: RegExp }[] = [
    {
      configDir: join(s.dir, "usb"),
      config: { sources: [join(s.dir, "source")], backup_root: "." },
      says: /'log_dir' \('.*[/\\]usb[/\\]logs'\) in '.*' is inside 'backup_root' \('.*[/\\]usb'\)/,
    },
    {
      configDir: join(s.dir, "home"),
      config: { sources: ["../source"], backup_root: "./logs" },
      says: /'log_dir' \('.*[/\\]home[/\\]logs'\) in '.*' is the same folder as 'backup_root',/,
    },
  ];
  for (const { configDir, config, says } of cases) {
    Deno.mkdirSync(configDir);
    const file = join(configDir, "config.jsonc");
    writeConfig(file, config);
    const before = listTree(s.dir);
    for (const command of ["run", "plan"]) {
      const r = await runCli([command, "--config", file]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, says);
      assert.deepEqual(listTree(s.dir), before, command);
    }
    const refused = await runCli(["run", "--config", file]);
    writeConfig(file, { ...config, log_dir: suggestedLogDir(refused.stderr) });
    const run = await runCli(["run", "--config", file]);
    assert.equal(run.code, 0, `${refused.stderr}${run.stderr}`);
  }
});

Deno.test("a source folder renamed: restore --at before it and history of a path it alone held name that path under the old source's name", async () => {
  using s = scratch();
  writeTree(join(s.dir, "source"), { "gone.txt": "deleted before the rename\n" });
  const file = join(s.dir, "config.jsonc");
  const config = { backup_root: "./backup", log_dir: "./logs" };
  const cli = (...args: string[]) => runCli([...args, "--config", file]);
  writeConfig(file, { ...config, sources: ["./source"] });
  assert.equal((await cli("run")).code, 0);
  const before = new Date().toISOString();
  Deno.removeSync(join(s.dir, "source", "gone.txt"));
  assert.equal((await cli("run")).code, 0);
  // The folder renamed and the config updated: its default name, and so the source, is new.
  Deno.renameSync(join(s.dir, "source"), join(s.dir, "papers"));
  writeConfig(file, { ...config, sources: ["./papers"] });
  assert.equal((await cli("run")).code, 0);

  const hint = (path: string) =>
    `'${path}' is recorded (source 'source', which the config no longer names): give that path`;
  for (const path of ["a.txt", "gone.txt"]) {
    const out = join(s.dir, `out-${path}`);
    const r = await cli("restore", path, "--at", before, "--to", out);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.stderr.includes(`as of ${before}, but ${hint(`source/${path}`)}\n`), r.stderr);
    const named = await cli("restore", `source/${path}`, "--at", before, "--to", out);
    assert.equal(named.code, 0, named.stderr);
  }
  assert.equal(Deno.readTextFileSync(join(s.dir, "out-a.txt", "source", "a.txt")), "a\n");
  const history = await cli("history", "gone.txt");
  assert.equal(history.code, 1);
  assert.equal(
    history.stderr,
    `Cannot show history of 'gone.txt': 'papers/gone.txt' was never backed up, but ${
      hint("source/gone.txt")
    }\n`,
  );
  const latest = await cli("restore", "gone.txt", "--to", join(s.dir, "latest"));
  assert.equal(latest.code, 1);
  assert.ok(
    latest.stderr.includes(
      `'papers/gone.txt' is not in the backup, but ${hint("source/gone.txt")}`,
    ),
    latest.stderr,
  );
});
