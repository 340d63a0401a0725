/** Unit tests of a PATH read as recorded, where it may be copied from a log line. */
import assert from "node:assert/strict";
import { UsageError } from "../engine/errors.ts";
import { asRecorded } from "./logged_path.ts";
import { PathResolver, recordedSet } from "./paths.ts";

const LINUX = new PathResolver(
  ["src"],
  [{ name: "src", path: "/data/src" }],
  recordedSet(["src/a\nb.txt", "src/back\\slash.txt"]),
  "linux",
);

/** A Windows user named robert: `\r`, `\n` in a PATH are folders' first letters there. */
const WINDOWS = new PathResolver(
  ["docs"],
  [{ name: "docs", path: "C:\\Users\\robert\\Documents" }],
  recordedSet(["docs/Notes/a.txt", "docs/new/b.txt"]),
  "windows",
);

Deno.test("asRecorded: a PATH copied from a log line is read back from its escapes", () => {
  assert.equal(asRecorded(LINUX, "a\\nb.txt"), "src/a\nb.txt");
  assert.equal(asRecorded(LINUX, "back\\\\slash.txt"), "src/back\\slash.txt");
  assert.equal(asRecorded(LINUX, "back\\slash.txt"), "src/back\\slash.txt");
  // Recorded nowhere, either way: the PATH as written, for the caller's NOT FOUND.
  assert.equal(asRecorded(LINUX, "c\\nd.txt"), "src/c\\nd.txt");
});

Deno.test("asRecorded: a Windows PATH whose backslashes read as a log's escapes is the path it names", () => {
  const user = "C:\\Users\\robert\\Documents";
  assert.equal(asRecorded(WINDOWS, `${user}\\Notes\\a.txt`), "docs/Notes/a.txt");
  assert.equal(asRecorded(WINDOWS, `${user}\\new\\b.txt`), "docs/new/b.txt");
  assert.equal(asRecorded(WINDOWS, "new\\b.txt"), "docs/new/b.txt");
  // Not recorded (a letter case other than the recorded one's, a file never backed up):
  // the path as written, which the caller says is not in the backup, with the spelling
  // recorded. Before, its escapes were read (`\r`obert, `\n`otes) and the path so read,
  // outside the source, was refused as not inside a configured source.
  assert.equal(asRecorded(WINDOWS, `${user}\\notes\\a.txt`), "docs/notes/a.txt");
  assert.equal(asRecorded(WINDOWS, `${user}\\nothing.txt`), "docs/nothing.txt");
  assert.equal(asRecorded(WINDOWS, `${user}\\raw`), "docs/raw");
  // A PATH outside every source is refused as written.
  assert.throws(
    () => asRecorded(WINDOWS, "C:\\Users\\nina\\x.txt"),
    (e) => e instanceof UsageError && e.message.includes("'C:\\Users\\nina\\x.txt'"),
  );
});
