/** Unit tests of a dry run's reach (dry_run.ts `lookByPath`), with and without /proc. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { lookByPath } from "./dry_run.ts";
import { RefusedFolder } from "./pinned.ts";

Deno.test("lookByPath without /proc (macOS, Windows): a symlink above the base is followed, as reachByPath follows it; one below it refused", () => {
  const dir = Deno.makeTempDirSync();
  try {
    // macOS's /tmp and /var (TMPDIR) are symlinks to /private/…: the restore writes there.
    Deno.mkdirSync(join(dir, "real", "out", "sub"), { recursive: true });
    Deno.symlinkSync(join(dir, "real"), join(dir, "link"));
    const base = join(dir, "link", "out");
    const reached = lookByPath(base, join(base, "sub"), undefined, false);
    assert.equal(reached.made, undefined);
    assert.equal(reached.path, join(base, "sub"));
    assert.equal(
      lookByPath(base, join(base, "new", "x"), undefined, false).made,
      join(base, "new"),
    );
    // The base itself a symlink: followed, as the restore follows it.
    Deno.symlinkSync(join(dir, "real", "out"), join(dir, "base"));
    assert.equal(
      lookByPath(join(dir, "base"), join(dir, "base", "sub"), undefined, false).made,
      undefined,
    );
    // Below the base, a symlink is refused, as the restore refuses it.
    Deno.symlinkSync(join(dir, "real", "out", "sub"), join(dir, "real", "out", "s"));
    assert.throws(
      () => lookByPath(base, join(base, "s", "x"), undefined, false),
      (e) => e instanceof RefusedFolder && e.why === "symlink" && e.folder === join(base, "s"),
    );
    // Where folders are opened from / (Linux), the symlink above the base is refused, as
    // the restore's openBase refuses it.
    if (Deno.build.os === "linux") {
      assert.throws(
        () => lookByPath(base, join(base, "sub"), undefined, true),
        (e) => e instanceof RefusedFolder && e.folder === join(dir, "link"),
      );
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
