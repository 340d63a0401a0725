import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../config/config.ts";
import { ConfigFiles } from "./config_change.ts";
import { withDir } from "../engine/test_util.ts";
import { followedReloads } from "./test_util.ts";

/**
 * ConfigFiles whose `afterLook` runs right after a look that hands an edit on, before the
 * config is read again: a save that begins in between (an editor truncating a file, then
 * writing it).
 */
class Racing extends ConfigFiles {
  afterLook: (() => void) | undefined;
  override look(): boolean {
    const handed = super.look();
    if (handed) this.afterLook?.();
    this.afterLook = handed ? undefined : this.afterLook;
    return handed;
  }
}

/** A config in `dir` listing `ex.txt` (holding `patterns`), loaded; its watch's reloads. */
function session(dir: string, patterns: string) {
  Deno.mkdirSync(join(dir, "s"));
  const file = join(dir, "config.jsonc");
  const ex = join(dir, "ex.txt");
  Deno.writeTextFileSync(ex, patterns);
  Deno.writeTextFileSync(file, configText());
  const current = loadConfig(file);
  const files = new Racing(current.file, current.excludeFrom);
  const { reloads, said, settle } = followedReloads(current, files);
  return { file, ex, files, reloads, said, settle };
}

function configText(excludeFrom = ["./ex.txt"], comment = ""): string {
  const config = { sources: ["./s"], backup_root: "./b", exclude_from: excludeFrom };
  return `${comment}${JSON.stringify(config, null, 2)}\n`;
}

Deno.test(
  "ConfigReloads: an exclude_from file truncated between the settled look and the load, the settled patterns are applied",
  withDir((dir) => {
    const { ex, files, reloads, said, settle } = session(dir, "node_modules/\n");
    Deno.writeTextFileSync(ex, "node_modules/\n*.cache\n");
    files.afterLook = () => Deno.writeTextFileSync(ex, ""); // the next save begins
    settle();
    const taken = reloads.take();
    assert.equal(taken?.changes, "exclude patterns: 1 pattern added ('*.cache')", said.join("\n"));
    assert.deepEqual(taken?.config.exclude, ["node_modules/", "*.cache"]);
    Deno.writeTextFileSync(ex, "node_modules/\n*.cache\n"); // the save ends: the same
    settle();
    settle();
    assert.equal(reloads.take(), undefined, "nothing more to apply");
    assert.deepEqual(said.filter((m) => m.startsWith("WARNING")), []);
  }),
);

Deno.test(
  "ConfigReloads: the config rewritten between the settled look and the load, the settled one is applied",
  withDir((dir) => {
    const { file, files, reloads, settle } = session(dir, "*.tmp\n");
    Deno.writeTextFileSync(file, configText(["./ex.txt"]).replace("{", '{ "rehash": true,'));
    files.afterLook = () => Deno.writeTextFileSync(file, "{"); // a save half written
    settle();
    assert.equal(reloads.take()?.changes, "rehash true (was false)");
  }),
);

Deno.test(
  "ConfigReloads: a comment-only edit, the exclude_from file truncated after its look, changes nothing",
  withDir((dir) => {
    const { file, ex, files, reloads, said, settle } = session(dir, "*.tmp\n");
    Deno.writeTextFileSync(file, configText(["./ex.txt"], "// a comment\n"));
    files.afterLook = () => Deno.writeTextFileSync(ex, "");
    settle();
    assert.equal(reloads.take(), undefined);
    assert.deepEqual(said, [
      `NOTE: Config '${file}' read again: nothing this watch uses changed (comments, spacing)`,
    ]);
  }),
);

Deno.test(
  "ConfigReloads: an exclude_from file deleted right after its edit settled: the edit is applied, then the deletion refused",
  withDir((dir) => {
    const { ex, files, reloads, said, settle } = session(dir, "*.tmp\n");
    Deno.writeTextFileSync(ex, "*.tmp\n*.log\n");
    files.afterLook = () => Deno.removeSync(ex);
    settle();
    assert.equal(reloads.take()?.changes, "exclude patterns: 1 pattern added ('*.log')");
    assert.deepEqual(said, []);
    settle(); // the deletion, settled
    assert.equal(said.length, 1, said.join("\n"));
    assert.match(said[0], /^WARNING: Cannot load config .*ex\.txt.* does not exist: create it/);
    assert.equal(reloads.take(), undefined);
  }),
);

Deno.test(
  "ConfigReloads: an exclude_from file the edit names anew is applied once it too is seen settled",
  withDir((dir) => {
    const { file, reloads, said, settle } = session(dir, "*.tmp\n");
    const more = join(dir, "more.txt");
    Deno.writeTextFileSync(more, "*.iso\n"); // being written: one line of two so far
    Deno.writeTextFileSync(file, configText(["./ex.txt", "./more.txt"]));
    settle();
    assert.equal(reloads.take(), undefined, "more.txt not seen settled yet");
    assert.deepEqual(said, []);
    Deno.writeTextFileSync(more, "*.iso\n*.img\n");
    settle();
    assert.equal(
      reloads.take()?.changes,
      "exclude patterns: 2 patterns added ('*.iso', '*.img'); exclude_from: 1 file added " +
        `('${more}')`,
      said.join("\n"),
    );
  }),
);
