/**
 * A backup root or a source moved as users move them: the backup disk copied onto a bigger
 * one (`rsync -S`, which makes holes of zeros), the backup root read or written by another
 * user than its owner (a new computer, where the same person has another uid), a source
 * copied or restored to another folder or disk (every file another inode), a source given
 * another name in the config at the same folder. What each must not do: hold less room
 * than it says, mislead, or read or copy everything again unsaid.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture } from "./helpers.ts";

const RESERVE = ".backup-tool/reserve";

Deno.test("a copy of the backup root that made the reserve sparse (rsync -S): the next run makes its 8 MiB whole again", async () => {
  using fx = makeFixture({ "a.txt": "a\n" });
  assert.equal((await fx.cli("run")).code, 0);
  const reserve = join(fx.backup, RESERVE);
  // As `rsync -S` or `cp --sparse=always` leave a reserve of zeros: its length, no block.
  Deno.removeSync(reserve);
  Deno.writeFileSync(reserve, new Uint8Array(0), { mode: 0o644 });
  Deno.truncateSync(reserve, 8 << 20);
  const sparse = Deno.statSync(reserve).blocks;
  if (sparse === null || sparse * 512 >= 8 << 20) return; // a file system without holes

  const r = await fx.cli("run");
  assert.equal(r.code, 0, r.stderr);
  const info = Deno.statSync(reserve);
  assert.equal(info.size, 8 << 20);
  assert.ok(info.blocks! * 512 >= 8 << 20, `the reserve holds ${info.blocks! * 512} bytes`);
});

Deno.test("the reserve is written with bytes a copy making holes of zeros keeps whole", async () => {
  using fx = makeFixture({ "a.txt": "a\n" });
  assert.equal((await fx.cli("run")).code, 0);
  using f = Deno.openSync(join(fx.backup, RESERVE));
  const head = new Uint8Array(4096);
  f.readSync(head);
  assert.ok(head.some((b) => b !== 0), "the reserve's first 4 KiB are all zeros");
});
