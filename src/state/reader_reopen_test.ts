import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { StateDb } from "./connection.ts";
import { StateStore } from "./store.ts";

const CONNECTION = new URL("./connection.ts", import.meta.url).href;

/**
 * A writer's sessions one after another for `ms`, as runs on a schedule are: each opens
 * the state (into WAL), commits, and closes (out of WAL, the -wal and -shm files removed).
 */
const WRITER = `
import { StateDb } from ${JSON.stringify(CONNECTION)};
const [file, ms] = Deno.args;
const end = Date.now() + Number(ms);
const pause = () => new Promise((r) => setTimeout(r, Math.random() < 0.5 ? 0 : 2));
while (Date.now() < end) {
  const db = StateDb.open(file, false);
  await pause();
  db.tx(() => db.q("UPDATE runs SET summary = summary WHERE id = 1").run());
  await pause();
  db.close();
  await pause();
}`;

Deno.test("a reader goes on reading while writers' sessions switch the state into WAL and out of it", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "bt-reader-" });
  try {
    const file = join(dir, "state.db");
    StateStore.open(file).close();
    const raw = new DatabaseSync(file);
    raw.exec("INSERT INTO runs (command, started_at, status) VALUES ('run', 1, 'ok')");
    raw.close();
    // Two writers, as a run and a watch session's passes would be were the lock not there:
    // more switches a second than one run makes, so that a rare moment comes within seconds.
    const writers = [0, 1].map(() =>
      new Deno.Command(Deno.execPath(), {
        args: ["eval", "--ext=ts", WRITER, file, "4000"],
        stdout: "null",
        stderr: "piped",
      }).output()
    );
    let done = false;
    Promise.all(writers).finally(() => done = true);
    const failed: string[] = [];
    let opens = 0;
    while (!done) {
      // As `history` or `restore` read: opened, then one statement at a time, a few of them.
      let db: StateDb;
      try {
        db = StateDb.open(file, true);
      } catch (e) {
        failed.push(`open: ${(e as Error).message}`);
        continue;
      }
      opens++;
      try {
        for (let i = 0; i < 6; i++) {
          db.q("SELECT count(*) AS n FROM runs").get();
          await new Promise((r) => setTimeout(r, Math.random() < 0.5 ? 0 : 2));
        }
      } catch (e) {
        failed.push((e as Error).message);
      } finally {
        db.close();
      }
    }
    for (const out of await Promise.all(writers)) {
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    }
    assert.ok(opens > 20, `only ${opens} reads`);
    assert.deepEqual(failed, [], `${failed.length} of ${opens} reads failed`);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
