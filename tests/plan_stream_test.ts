/**
 * `plan` writes its lines as it plans them, in chunks, instead of keeping them all until
 * it is done (200,000 files' lines were 27 MiB): a plan held in the middle of its
 * reads (BACKUP_TOOL_PAUSE) has written the lines of the files it planned before, and
 * once let go, the same lines and summary as a plan never held.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, toolCommand, writeTree } from "./helpers.ts";

const FILES = 1500;
const name = (i: number) => `folder/a-file-with-a-long-name-${String(i).padStart(5, "0")}.txt`;
const tree = (text: string) =>
  Object.fromEntries(Array.from({ length: FILES }, (_, i) => [name(i), `${text} ${i}\n`]));

Deno.test("plan: its lines are written while it plans, and come out whole and in order", async () => {
  using fx = makeFixture(tree("content"));
  assert.equal((await fx.cli("run")).code, 0);
  // Every file changed: read after the walk, in path order, all on this thread (a tracked
  // tree has no staging worker), so the 1,200th read comes once 1,199 files are planned,
  // and the lines of the first batch (1,024 files, 180 KiB) are written by then.
  writeTree(fx.source, tree("changed content"));
  const paused = join(fx.dir, "paused");
  const { cmd, args } = toolCommand(["plan", "--config", fx.config]);
  const child = new Deno.Command(cmd, {
    args,
    env: { NO_COLOR: "1", BACKUP_TOOL_PAUSE: `reading:1200:${paused}` },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Read as it comes: a pipe left unread would hold the plan at its first 64 KiB instead.
  const chunks: Uint8Array[] = [];
  const reading = (async () => {
    for await (const chunk of child.stdout) chunks.push(chunk);
  })();
  try {
    for (const end = Date.now() + 30_000; !exists(paused) && Date.now() < end;) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(exists(paused), "the plan never reached its 1,200th read");
    // Held there: what stdout gives now was written before the plan was done.
    for (const end = Date.now() + 10_000; chunks.length === 0 && Date.now() < end;) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const early = new TextDecoder().decode(concat(chunks));
    assert.ok(early.includes(`UPDATED: source/${name(0)} → backup/${name(0)}\n`), early);
    assert.ok(!early.includes("Plan: "), "the summary came before the plan was done");
  } catch (e) {
    child.kill("SIGKILL");
    await Promise.all([reading, child.stderr.cancel(), child.status]);
    throw e;
  } finally {
    if (exists(paused)) Deno.removeSync(paused); // let go
  }
  const [stderr, status] = await Promise.all([
    new Response(child.stderr).text(),
    child.status,
    reading,
  ]);
  assert.equal(status.code, 0, stderr);
  const held = new TextDecoder().decode(concat(chunks)).split("\n");
  const whole = (await fx.cli("plan")).stdout.split("\n");
  const timeless = (lines: string[]) => lines.map((l) => l.replace(/planned in .*\)/, ""));
  assert.deepEqual(timeless(held), timeless(whole));
  assert.equal(held.filter((l) => l.startsWith("UPDATED: ")).length, FILES);
  assert.match(held.at(-3)!, /^Plan: 0 new, 1500 updated, /);
});

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return all;
}
