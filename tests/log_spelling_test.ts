/**
 * A path copied from a log line names the file that line was about. Logs write a newline in
 * a name as `\n` and a backslash as `\\`, so the log spelling of one name can be another
 * name's very characters (`a\nb`: a name with a newline, and one with a backslash and an
 * n). Where both are recorded, `restore` and `history` name the two ways to say each and
 * change nothing (exit 2), as docs/logs.md says; a spelling of each is taken.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture } from "./helpers.ts";

const unix = Deno.build.os !== "windows";

Deno.test({
  name: "a log's spelling that is another recorded name's very characters is named, never taken",
  ignore: !unix,
  fn: async () => {
    using fx = makeFixture({ "nl\nname": "newline", "nl\\nname": "backslash" });
    assert.equal((await fx.cli("run", "-q")).code, 0);
    const log = fx.lastLog();
    assert.ok(log.includes("BACKUP: source/nl\\nname → backup/nl\\nname"), log.join("\n"));
    assert.ok(log.includes("BACKUP: source/nl\\\\nname → backup/nl\\\\nname"), log.join("\n"));
    // Copied from the newline file's line: before, the backslash file was restored (exit 0).
    const copied = "source/nl\\nname";
    const to = join(fx.dir, "r");
    const restore = await fx.cli("restore", copied, "--to", to);
    assert.equal(restore.code, 2, restore.stderr);
    assert.equal(
      restore.stderr.trim(),
      "Cannot tell which 'source/nl\\nname' is meant: the backup holds a name of these very " +
        "characters (logged as 'source/nl\\\\nname') and one a log writes so (its escapes " +
        "standing for other characters): give 'source/nl\\\\nname' for the first or " +
        "'source/nl\\u000aname' for the second",
    );
    assert.throws(() => Deno.statSync(to), Deno.errors.NotFound);
    const history = await fx.cli("history", copied);
    assert.equal(history.code, 2, history.stderr);
    assert.match(history.stderr, /^Cannot tell which 'source\/nl\\nname' is meant: /);
    assert.equal(history.stdout, "");
    // Each spelling the message gives is taken, for the file it names.
    for (
      const [given, name, content] of [
        ["source/nl\\\\nname", "nl\\nname", "backslash"],
        ["source/nl\\u000aname", "nl\nname", "newline"],
      ]
    ) {
      const h = await fx.cli("history", given);
      assert.equal(h.code, 0, h.stderr);
      const dir = join(fx.dir, content);
      const r = await fx.cli("restore", given, "--to", dir);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [name]);
      assert.equal(Deno.readTextFileSync(join(dir, name)), content);
    }
  },
});

Deno.test({
  name: "a log's spelling read back where only the escaped name is recorded, as before",
  ignore: !unix,
  fn: async () => {
    using fx = makeFixture({ "nl\nname": "newline" });
    assert.equal((await fx.cli("run", "-q")).code, 0);
    const to = join(fx.dir, "r");
    const r = await fx.cli("restore", "source/nl\\nname", "--to", to);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(Deno.readTextFileSync(join(to, "nl\nname")), "newline");
  },
});

Deno.test({
  name: "with several sources, a log's path under a source named with a newline is taken",
  ignore: !unix,
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a" }, { sources: ["./source", "./s\nrc"] });
    Deno.mkdirSync(join(fx.dir, "s\nrc"));
    Deno.writeTextFileSync(join(fx.dir, "s\nrc", "f.txt"), "f");
    assert.equal((await fx.cli("run", "-q")).code, 0);
    assert.ok(fx.lastLog().includes("BACKUP: s\\nrc/f.txt → backup/_sources/s\\nrc/f.txt"));
    // Before, refused: "Cannot find 's\nrc/f.txt' in the backup: with several sources a
    // path starts with the source name (s\nrc, source)".
    const history = await fx.cli("history", "s\\nrc/f.txt");
    assert.equal(history.code, 0, history.stderr);
    assert.match(history.stdout, /^History of s\\nrc\/f\.txt \(1 content\)\n/);
    const to = join(fx.dir, "r");
    const restore = await fx.cli("restore", "s\\nrc", "--to", to);
    assert.equal(restore.code, 0, restore.stderr);
    assert.equal(Deno.readTextFileSync(join(to, "s\nrc", "f.txt")), "f");
    // A path under no source, as written or as read, is still refused as such.
    const none = await fx.cli("history", "x\\nrc/f.txt");
    assert.equal(none.code, 2, none.stderr);
    assert.match(none.stderr, /^Cannot find 'x\\nrc\/f\.txt' in the backup: with several sources/);
  },
});

Deno.test("a line or paragraph separator and the Arabic letter mark in a name are escaped, and read back", async () => {
  // U+2028 ends a line for JavaScript's `^`/`$` and Python's splitlines; U+061C reorders
  // text as the other bidi marks do. Before, both were written as they are.
  const names = ["ls\u2028sep", "ps\u2029sep", "alm\u061cx"];
  using fx = makeFixture(Object.fromEntries(names.map((n) => [n, n])));
  assert.equal((await fx.cli("run", "-q")).code, 0);
  const log = Deno.readTextFileSync(
    join(fx.logs, [...Deno.readDirSync(fx.logs)].map((e) => e.name).sort().at(-1)!),
  );
  assert.doesNotMatch(log, /[\u061c\u2028\u2029]/);
  assert.equal(log.split(/^/m).length, log.split("\n").length - 1);
  const spelt = ["source/ls\\u2028sep", "source/ps\\u2029sep", "source/alm\\u061cx"];
  for (const s of spelt) assert.ok(log.includes(`BACKUP: ${s} → backup/${s.slice(7)}\n`), s);
  const plan = await fx.cli("plan", "--all");
  assert.doesNotMatch(plan.stdout, /[\u061c\u2028\u2029]/);
  const to = join(fx.dir, "r");
  const restore = await fx.cli("restore", ...spelt, "--to", to);
  assert.equal(restore.code, 0, restore.stderr);
  assert.doesNotMatch(restore.stdout, /[\u061c\u2028\u2029]/);
  for (const n of names) assert.equal(Deno.readTextFileSync(join(to, n)), n);
  const history = await fx.cli("history", spelt[0]);
  assert.equal(history.code, 0, history.stderr);
  assert.match(history.stdout, /^History of source\/ls\\u2028sep \(1 content\)\n/);
});

Deno.test("an error naming a path writes a C1 control and a bidi mark in it as the log does", async () => {
  // Before, `Cannot show history of folder '…'` sent U+009B (a terminal's CSI) and U+202E
  // to the terminal as they are, where the log wrote `\u009b` and `\u202e`.
  using fx = makeFixture({ "c1\x9bdir/f": "f", "rlo\u202edir/g": "g" });
  assert.equal((await fx.cli("run", "-q")).code, 0);
  for (
    const [folder, spelt] of [["c1\x9bdir", "c1\\u009bdir"], ["rlo\u202edir", "rlo\\u202edir"]]
  ) {
    assert.ok(fx.lastLog().some((l) => l.startsWith(`BACKUP: source/${spelt}/`)), spelt);
    const h = await fx.cli("history", folder);
    assert.equal(h.code, 2, h.stderr);
    assert.equal(
      h.stderr,
      `Cannot show history of folder '${spelt}': give a file PATH under it\n`,
    );
  }
});
