/**
 * docs/logs.md names every kind of log line: runs and a watch session through the real CLI
 * write the kinds a backup's life brings (new, changed, duplicate, deleted, promoted,
 * pruned, excluded, special, files read again as other files, counted unchanged, rotated
 * logs, rescans), and each kind met (the words before the first colon) must be named there.
 * Everything is in one temporary folder, removed at the end.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  copiedInPlace,
  type Fixture,
  makeFixture,
  poll,
  REPO,
  trustRecords,
  writeConfig,
} from "./helpers.ts";
import { WatchProcess } from "./watch_helpers.ts";

/** The kind of a log line, its timestamp taken off: `ARCHIVE DELETE`, `RETENTION delete`. */
const KIND = /^([A-Z][A-Z]+(?: [A-Z]+)*(?: [a-z]+)?):/;

/** Runs a command, adding its log's lines to `lines` (read before a later run rotates it). */
async function ok(fx: Fixture, lines: string[], ...args: string[]): Promise<void> {
  const r = await fx.cli(...args);
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  lines.push(...fx.lastLog());
}

Deno.test({
  name: "every kind of line a run's or a watch's log holds is named in docs/logs.md",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    using fx = makeFixture(
      { "a.txt": "a1\n", "b.txt": "same\n", "c.txt": "same\n", "gone.txt": "g\n", "x.tmp": "x" },
      { retention: { max_versions_per_file: 1 }, log_retention: 2 },
    );
    const lines: string[] = [];
    const fifo = new Deno.Command("mkfifo", { args: [join(fx.source, "pipe")] }).outputSync();
    assert.equal(fifo.code, 0);
    await ok(fx, lines, "run");
    for (const content of ["a2\n", "a3\n"]) {
      Deno.writeTextFileSync(join(fx.source, "a.txt"), content);
      await ok(fx, lines, "run");
    }
    Deno.removeSync(join(fx.source, "gone.txt"));
    Deno.removeSync(join(fx.source, "b.txt"));
    await ok(fx, lines, "run");
    trustRecords(fx.backup);
    copiedInPlace(fx.source);
    writeConfig(fx.config, {
      sources: ["./source"],
      backup_root: "./backup",
      log_dir: "./logs",
      exclude: ["*.tmp"],
      log_unchanged: false,
      log_retention: 2,
      watch: { debounce_ms: 50, rescan_interval: 1 },
    });
    await ok(fx, lines, "run");
    await using w = new WatchProcess(fx);
    await w.ready();
    await poll("a periodic rescan", () => fx.lastLog().some((l) => l.startsWith("RESCAN done:")));
    assert.equal((await w.stop()).code, 0, w.stderr);

    const doc = Deno.readTextFileSync(join(REPO, "docs", "logs.md"));
    lines.push(...fx.lastLog());
    const kinds = new Set(lines.flatMap((l) => l.match(KIND)?.[1] ?? []));
    for (const expected of ["RETENTION delete", "PROMOTED", "READ AGAIN", "RESCAN", "EXCLUDED"]) {
      assert.ok(kinds.has(expected), `no ${expected} line in:\n${lines.join("\n")}`);
    }
    const unsaid = [...kinds].filter((k) => !new RegExp(`(^|\`)${k}:`, "m").test(doc));
    assert.deepEqual(unsaid, [], "log line kinds that docs/logs.md does not name");
  },
});
