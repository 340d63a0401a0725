/**
 * A folder all of whose files were excluded at a moment asked, only some of those exclusions
 * ended since, through the real CLI: `restore --at` and `ls --at` say its one line for the
 * mix (how many are excluded still, how many were then only, and the moment to give for
 * those followed again), not that the folder is excluded, nor that every file was.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, makeFixture, writeConfig } from "./helpers.ts";
import { ok, put } from "./restore_helpers.ts";

/** The fixture's config, with `exclude`. */
function configure(fx: Fixture, exclude: string[] = []): void {
  writeConfig(fx.config, {
    sources: ["./source"],
    backup_root: "./backup",
    log_dir: "./logs",
    exclude,
  });
}

const LEFT_OUT = "an exclude pattern, a folder's tag, one_file_system or exclude_larger_than";

Deno.test("restore and ls --at a moment a folder was excluded whole, some of its files followed again since: its line says which are excluded still and which were then", async () => {
  using fx = makeFixture({});
  put(fx.source, {
    "a.txt": "a\n",
    "cache/c1.bin": "1\n",
    "cache/c2.bin": "2\n",
    "cache/c3.bin": "3\n",
  });
  await ok(fx, "run");
  configure(fx, ["cache/"]);
  await ok(fx, "run");
  const during = JSON.parse(await ok(fx, "history", "--json")).runs[1].endedAt;
  // c1.bin followed again; c2.bin and c3.bin left out still.
  configure(fx, ["cache/c2.bin", "cache/c3.bin"]);
  await ok(fx, "run");
  const [span] = JSON.parse(await ok(fx, "history", "cache/c1.bin", "--json")).exclusions;
  assert.equal(span.ended, "followed");
  const line = new RegExp(
    "^WARNING: every file recorded under 'source/cache' was excluded at the --at time, and " +
      "not all are now: 2 of the 3 files restored are excluded still \\(the config leaves " +
      `each out: ${LEFT_OUT}\\), 1 was excluded from ${span.from} to ${span.to} \\(the config ` +
      "left it out, then followed it again\\): the backup holds the 3 files restored as last " +
      "backed up before they were excluded, the last at \\S+Z, and they may have changed " +
      `since: give --at ${span.to} or a later time for the content backed up once it was ` +
      "followed again$",
    "m",
  );
  const r = await fx.cli("restore", "--at", during, "--to", join(fx.dir, "then"));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, line);
  assert.doesNotMatch(r.stderr, / is excluded/);
  const l = await fx.cli("ls", "--at", during);
  assert.equal(l.code, 0, l.stderr);
  assert.match(l.stderr, line);
  // Each file's own line tells which: ls lists the span of the one followed again.
  assert.match(l.stdout, new RegExp(`source/cache/c1\\.bin .*; excluded from ${span.from} `, "m"));
  assert.match(l.stdout, /source\/cache\/c2\.bin .*; excluded since$/m);
});
