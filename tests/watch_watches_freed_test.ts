/**
 * A source taken out of a watch's config is followed no more: once the config edit is
 * applied, the kernel holds one watch per folder of the source left, none of the one taken
 * out. Deno's watcher (2.9.6) kept them, once folders had been removed below a folder it
 * followed, until the process ended (a soak: 37 of a removed source's 64 folders stayed
 * watched); the watchers' worker (watcher_host.ts), ended at each opening anew, gives them
 * back. Linux only: it reads the session's /proc entries.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, poll, writeConfig } from "./helpers.ts";
import { backedUp, DEADLINE_MS, WatchProcess } from "./watch_helpers.ts";
import { inotifyWatches } from "../src/watch/watch_count.ts";

/** Small debounce, no periodic rescan; folders removed are archived, none held back. */
const SETTINGS = {
  watch: { debounce_ms: 200, rescan_interval: 0 },
  safety: { max_delete_percent: 100 },
};

/** `count` folders with a folder and a file in each, as a tree for writeTree. */
function folders(prefix: string, count: number): Record<string, string> {
  const tree: Record<string, string> = {};
  for (let i = 0; i < count; i++) tree[`${prefix}${i}/sub/f.txt`] = `${prefix} ${i}\n`;
  return tree;
}

/** The folders in `dir`, itself included. */
function foldersIn(dir: string): number {
  let n = 1;
  for (const e of Deno.readDirSync(dir)) if (e.isDirectory) n += foldersIn(join(dir, e.name));
  return n;
}

Deno.test({
  name:
    "watch: a source taken out of the config after folders were removed in it keeps no kernel watch",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n", ...folders("s", 6) }, {
      sources: ["./source", "./docs"],
      ...SETTINGS,
    });
    const docs = join(fx.dir, "docs");
    Deno.mkdirSync(docs);
    for (const [path, text] of Object.entries(folders("d", 8))) {
      Deno.mkdirSync(join(docs, path, ".."), { recursive: true });
      Deno.writeTextFileSync(join(docs, path), text);
    }
    await using w = new WatchProcess(fx);
    await w.ready();
    // Folders removed below folders followed, in both sources: Deno's watcher kept watches
    // of others from then on, at each close of the watchers.
    for (let i = 0; i < 4; i++) Deno.removeSync(join(docs, `d${i}`), { recursive: true });
    for (let i = 0; i < 2; i++) Deno.removeSync(join(fx.source, `s${i}`), { recursive: true });
    await backedUp(fx.backup, "_sources/docs/d3/sub/f.txt", undefined);
    await backedUp(fx.backup, "_sources/source/s1/sub/f.txt", undefined);
    writeConfig(fx.config, {
      sources: ["./source"],
      backup_root: "./backup",
      log_dir: "./logs",
      ...SETTINGS,
    });
    await poll(`the source taken out (stderr: ${w.stderr})`, () => /'docs'/.test(w.stderr));
    const want = foldersIn(fx.source);
    let held: number | undefined;
    try {
      await poll("one watch per folder of the source left", () => {
        held = inotifyWatches(w.pid);
        return held === want;
      }, DEADLINE_MS);
    } catch {
      assert.fail(`Expected ${want} watches (the folders of 'source'); the session holds ${held}`);
    }
    const exit = await w.stop();
    assert.equal(exit.code, 0, exit.stderr);
  },
});
