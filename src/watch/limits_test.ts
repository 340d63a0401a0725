/** Unit tests of the inotify watch-limit check: the warning, the folder count, the reader. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { countFolders, readWatchLimit, WATCH_LIMIT_FILE, watchLimitWarning } from "./limits.ts";

Deno.test("limits: no warning while the folders fit in the limit", () => {
  assert.equal(watchLimitWarning(8192, 8192), undefined);
});

Deno.test("limits: the warning names the limit file and how to raise it", () => {
  const w = watchLimitWarning(8193, 8192)!;
  assert.match(w, /^Raise the inotify watch limit/);
  assert.ok(w.includes(`'${WATCH_LIMIT_FILE}'`));
  assert.ok(w.includes("sysctl fs.inotify.max_user_watches=524288"));
});

Deno.test("limits: countFolders counts every folder, up to the cap", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    for (const p of ["a/b/c", "a/d", "e"]) Deno.mkdirSync(join(dir, p), { recursive: true });
    Deno.writeTextFileSync(join(dir, "a", "file"), "x");
    assert.equal(await countFolders([dir], 100), 6);
    assert.equal(await countFolders([dir], 2), 3); // stops once past the cap
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("limits: readWatchLimit reads a number, or nothing", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const file = join(dir, "max");
    Deno.writeTextFileSync(file, "8192\n");
    const expected = Deno.build.os === "linux" ? 8192 : undefined;
    assert.equal(readWatchLimit(file), expected);
    assert.equal(readWatchLimit(join(dir, "missing")), undefined);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
