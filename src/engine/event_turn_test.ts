import assert from "node:assert/strict";
import { join } from "node:path";
import { signalTaken } from "../../tests/helpers.ts";
import { exists } from "../../tests/reliability/util.ts";

/**
 * A child process is sent SIGTERM while it is busy, ten times over; after each, it takes
 * one turn while a long microtask holds the loop, and counts whether that turn let the
 * signal in (then waits for it, so that the next round starts clean). A timer alone lets
 * none in (it is due before the loop looks); `hearSignals` misses about 1 in 300 on a
 * loaded machine, so two misses are allowed.
 */
const CHILD = `
import { hearSignals } from ${JSON.stringify(new URL("./event_turn.ts", import.meta.url).href)};
const [marker, rounds] = [Deno.args[0], Number(Deno.args[1])];
let count = 0;
const listener = () => { count++; };
Deno.addSignalListener("SIGTERM", listener);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
let heardInOneTurn = 0;
for (let round = 0; round < rounds; round++) {
  const before = count;
  Deno.writeTextFileSync(marker, "");
  for (;;) {
    try { Deno.statSync(marker); } catch { break; }
    Atomics.wait(sleeper, 0, 0, 2);
  }
  const turn = hearSignals();
  queueMicrotask(() => { for (const end = performance.now() + 10; performance.now() < end;); });
  await turn;
  if (count > before) heardInOneTurn++;
  while (count === before) await new Promise((r) => setTimeout(r, 5));
}
Deno.removeSignalListener("SIGTERM", listener);
console.log(heardInOneTurn);
`;

const ROUNDS = 10;

Deno.test({
  name: "hearSignals: a signal that came during synchronous work is heard in the next turn",
  ignore: Deno.build.os === "windows", // no SIGTERM to send there
  fn: async () => {
    const dir = Deno.makeTempDirSync();
    try {
      const script = join(dir, "child.ts");
      const marker = join(dir, "busy");
      Deno.writeTextFileSync(script, CHILD);
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", script, marker, String(ROUNDS)],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      for (let round = 0; round < ROUNDS; round++) {
        for (const end = Date.now() + 30_000; !exists(marker);) {
          assert.ok(Date.now() < end, "the child never got busy");
          await new Promise((r) => setTimeout(r, 2));
        }
        child.kill("SIGTERM");
        await signalTaken(child.pid, "SIGTERM"); // delivered while it is still busy
        Deno.removeSync(marker);
      }
      const out = await child.output();
      const heard = Number(new TextDecoder().decode(out.stdout).trim());
      assert.ok(heard >= ROUNDS - 2, `heard in one turn ${heard} times of ${ROUNDS}`);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
