/**
 * A watch stopped just as a FIFO appears in a source. The stop's last step closes the
 * watchers, and a watch ends once its read has, which waits for Deno's watcher thread: held
 * opening a FIFO (it opens the path each event names), that thread held the stop, deaf to
 * SIGINT, for good. Pauses (BACKUP_TOOL_PAUSE) hold the watch at the two moments that
 * matter: after its last look for such a FIFO, where only the FIFO guard can free the
 * thread (src/watch/fifo_guard.ts), and before its first, with the thread held by a FIFO
 * removed meanwhile, which nothing can free.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, makeFixture, poll } from "./helpers.ts";
import { DEADLINE_MS, WatchProcess } from "./watch_helpers.ts";
import { exists } from "./reliability/util.ts";

/** How long a FIFO's event may take to hold Deno's watcher thread: a few ms, idle. */
const HOLD_MS = 2000;

function mkfifo(path: string): void {
  const r = new Deno.Command("mkfifo", { args: [path] }).outputSync();
  assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
}

/** Whether a thread of process `pid` waits for a FIFO's other end. */
function waitsOnFifo(pid: number): boolean {
  for (const { name } of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      if (Deno.readTextFileSync(`/proc/${pid}/task/${name}/wchan`) === "wait_for_partner") {
        return true;
      }
    } catch { /* the thread ended */ }
  }
  return false;
}

/**
 * A watch of `fx` started, then stopped by SIGINT and held at the pause `point`; run with
 * `permissions` where given, else as the suite is (BACKUP_TOOL_PERMISSIONS).
 */
async function stoppedAt(fx: Fixture, point: string, permissions?: "all" | "restricted") {
  const marker = join(fx.dir, "paused");
  const env: Record<string, string> = { BACKUP_TOOL_PAUSE: `${point}:1:${marker}` };
  if (permissions !== undefined) env.BACKUP_TOOL_PERMISSIONS = permissions;
  const w = new WatchProcess(fx, [], env);
  await w.ready();
  const exit = w.stop("SIGINT"); // fails, the watch killed, if it does not end in time
  exit.catch(() => {}); // awaited below; a pause never reached must not leave it unhandled
  await poll(`the stop to reach the pause at ${point}`, () => exists(marker), DEADLINE_MS);
  return { w, exit, resume: () => Deno.removeSync(marker) };
}

Deno.test({
  name: "watch: a FIFO made as the stop closes the watchers, after its last look for one, " +
    "holds neither the stop nor the process: it ends (exit 0) with 'Watch stopped'",
  ignore: Deno.build.os !== "linux", // Deno's inotify watcher opens the paths events name
  fn: async () => {
    // No periodic rescan, nor any FIFO before: the stop's is the session's first close.
    using fx = makeFixture({ "a.txt": "a\n" }, { watch: { debounce_ms: 200, rescan_interval: 0 } });
    const { w, exit, resume } = await stoppedAt(fx, "unwatching");
    await using _w = w;
    mkfifo(join(fx.source, "q"));
    // Deno's thread takes the event up and waits opening the FIFO, unless the guard, on
    // meanwhile, has let it through already: either way, the close comes after.
    const since = Date.now();
    while (!waitsOnFifo(w.pid) && Date.now() - since < HOLD_MS) {
      await new Promise((r) => setTimeout(r, 10));
    }
    resume();
    const e = await exit;
    assert.equal(e.code, 0, e.stderr);
    assert.ok(fx.lastLog().includes("Watch stopped (1 pass)"), fx.lastLog().join("\n"));
  },
});

/**
 * A watch held at the stop's first look, Deno's watcher thread by then held by a FIFO
 * removed as it opened it: with all permissions the look finds it, and the watchers are
 * left. Without (`restricted`: no /proc/self, as on macOS) nothing finds it:
 * the close waits for the watchers a bounded time, then ends their worker (before, the stop
 * waited on it for good, after `Watch stopped`). Either way the stop ends, as asked (exit 0).
 */
async function heldForGood(permissions: "all" | "restricted") {
  using fx = makeFixture({ "a.txt": "a\n" }, { watch: { debounce_ms: 200, rescan_interval: 0 } });
  // Before the stop's first look: nothing looks at Deno's thread while the watch is held.
  const { w, exit, resume } = await stoppedAt(fx, "dropping", permissions);
  await using _w = w;
  const fifo = join(fx.source, "q");
  mkfifo(fifo);
  await poll("Deno's watcher thread to wait on the FIFO", () => waitsOnFifo(w.pid), DEADLINE_MS);
  Deno.removeSync(fifo);
  resume();
  const e = await exit;
  assert.equal(e.code, 0, e.stderr);
  const said = permissions === "all"
    ? "Deno's watcher waits to open a FIFO it cannot be freed from (one removed or " +
      "renamed while it opened it): its watches are left as they are; the watch stops as asked"
    : "Cannot close the watchers within 5 s: Deno's watcher thread does not answer (held, " +
      "perhaps, opening a FIFO made in a source): the watch stops without waiting for it";
  assert.ok(e.stderr.includes(said), e.stderr);
  const log = fx.lastLog();
  assert.ok(log.includes("Watch stopped (1 pass)"), log.join("\n"));
  assert.ok(log.includes(`WARNING: ${said}`), log.join("\n"));
  assert.ok(!log.some((l) => l.includes("Watch stopped at once")), log.join("\n"));
}

Deno.test({
  name: "watch: Deno's watcher held for good by a FIFO removed as it opened it, found by the " +
    "stop: its watches are left, a line says so, and the watch stops as asked (exit 0)",
  ignore: Deno.build.os !== "linux",
  fn: () => heldForGood("all"),
});

Deno.test({
  name: "watch (restricted permissions, the fallbacks): Deno's watcher held for good by a FIFO " +
    "removed as it opened it, which nothing finds: the stop ends the watchers' worker after " +
    "5 s, a line says so, and the watch stops as asked (exit 0)",
  // The binary (BACKUP_TOOL_BIN) has every permission.
  ignore: Deno.build.os !== "linux" || Deno.env.get("BACKUP_TOOL_BIN") !== undefined,
  fn: () => heldForGood("restricted"),
});
