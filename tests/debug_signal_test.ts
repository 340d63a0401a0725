/**
 * SIGUSR1 opens no debugger: Deno (2.9.2 on) starts V8's inspector on 127.0.0.1:9229 when a
 * process gets SIGUSR1, which any local user could then drive with this process's rights;
 * a running command sets the signal to be ignored once Deno's handler is in place
 * (src/engine/debug_signal.ts). Read from /proc: Linux only.
 */
import assert from "node:assert/strict";
import { makeFixture, poll } from "./helpers.ts";
import { DEADLINE_MS, WatchProcess } from "./watch_helpers.ts";

/** SIGUSR1's bit in /proc/PID/status's signal masks (signal 10: bit 9). */
const SIGUSR1_BIT = 1n << 9n;

function signalMask(pid: number, field: "SigIgn" | "SigCgt"): bigint {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const hex = status.match(new RegExp(`^${field}:\\s*([0-9a-f]+)$`, "m"))?.[1];
  assert.ok(hex !== undefined, `no ${field} in /proc/${pid}/status`);
  return BigInt(`0x${hex}`);
}

Deno.test({
  name:
    "a watch ignores SIGUSR1 once Deno's handler is there: no debugger opens, the watch goes on and stops cleanly",
  ignore: Deno.build.os !== "linux",
  async fn() {
    using fx = makeFixture({ "a.txt": "a\n" });
    await using watch = new WatchProcess(fx);
    await watch.ready();
    await poll(
      "SIGUSR1 ignored by the watch",
      () => (signalMask(watch.pid, "SigIgn") & SIGUSR1_BIT) !== 0n,
      DEADLINE_MS,
    );
    assert.equal(signalMask(watch.pid, "SigCgt") & SIGUSR1_BIT, 0n);
    Deno.kill(watch.pid, "SIGUSR1");
    const exit = await watch.stop();
    assert.equal(exit.code, 0, exit.stderr);
    assert.doesNotMatch(exit.stderr, /Debugger listening/);
  },
});
