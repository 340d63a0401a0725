/**
 * A file whose modification time lies far in the future (a camera's clock set wrong, an
 * archive unpacked with a bogus date: 2100) is trusted as any other once its change time
 * is past the racy window: a change now gives it a time of now, which its record's cannot
 * be, so it is not read again at every run. One a second ahead, within reach of a clock a
 * little off (a file server's), is read again, as one just written. Through the CLI; the
 * fingerprint's trust read from the state.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { makeFixture, poll } from "./helpers.ts";

const trusted = (backup: string) => {
  const db = new DatabaseSync(join(backup, ".backup-tool", "state.db"), { readOnly: true });
  try {
    const rows = db.prepare("SELECT path, trusted FROM files ORDER BY path").all();
    return Object.fromEntries(rows.map((r) => [r.path, r.trusted]));
  } finally {
    db.close();
  }
};

Deno.test("a file dated in the far future is trusted once its change time is past, not read at every run", async () => {
  using fx = makeFixture({ "far.txt": "far", "near.txt": "near", "past.txt": "past" });
  const now = Date.now();
  Deno.utimeSync(join(fx.source, "far.txt"), new Date(now), new Date("2100-01-01T00:00:00Z"));
  Deno.utimeSync(join(fx.source, "near.txt"), new Date(now), new Date(now + 60_000));
  Deno.utimeSync(join(fx.source, "past.txt"), new Date(now), new Date("2020-01-01T00:00:00Z"));
  // Their change times (now) past the 2 s window in which a run trusts no fingerprint.
  await poll("the change times to be 2 s old", () => Date.now() > now + 2500);
  const run = await fx.cli("run");
  assert.equal(run.code, 0, run.stderr);
  const rows = trusted(fx.backup);
  assert.equal(rows["source/far.txt"], 1, JSON.stringify(rows));
  assert.equal(rows["source/past.txt"], 1, JSON.stringify(rows));
  // A minute ahead: a clock a little off may have written it now; read again next run.
  assert.equal(rows["source/near.txt"], 0, JSON.stringify(rows));
});
