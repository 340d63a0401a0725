import assert from "node:assert/strict";
import { join } from "node:path";
import { signalTaken } from "../../tests/helpers.ts";

/**
 * A child process that is sent SIGTERM while it is busy, then takes one turn while a long
 * microtask holds the loop (a timer would be due before the loop looks): it must have heard
 * the signal after that one turn.
 */
const CHILD = `
import { hearSignals } from ${JSON.stringify(new URL("./event_turn.ts", import.meta.url).href)};
const marker = Deno.args[0];
let heard = false;
const listener = () => { heard = true; };
Deno.addSignalListener("SIGTERM", listener);
Deno.writeTextFileSync(marker, "");
const sleeper = new Int32Array(new SharedArrayBuffer(4));
for (;;) {
  try { Deno.statSync(marker); } catch { break; }
  Atomics.wait(sleeper, 0, 0, 5);
}
const turn = hearSignals();
queueMicrotask(() => { for (const end = performance.now() + 20; performance.now() < end;); });
await turn;
Deno.removeSignalListener("SIGTERM", listener);
console.log(heard ? "heard" : "not heard");
`;

Deno.test({
  name: "hearSignals: a signal that came during synchronous work is heard in one turn",
  ignore: Deno.build.os === "windows", // no SIGTERM to send there
  fn: async () => {
    const dir = Deno.makeTempDirSync();
    try {
      const script = join(dir, "child.ts");
      const marker = join(dir, "busy");
      Deno.writeTextFileSync(script, CHILD);
      for (let round = 0; round < 3; round++) {
        const child = new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", script, marker],
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        for (const end = Date.now() + 30_000; !exists(marker);) {
          assert.ok(Date.now() < end, "the child never got busy");
          await new Promise((r) => setTimeout(r, 5));
        }
        child.kill("SIGTERM");
        await signalTaken(child.pid, "SIGTERM"); // delivered while it is still busy
        Deno.removeSync(marker);
        const out = await child.output();
        const text = new TextDecoder().decode(out.stdout).trim();
        assert.equal(text, "heard", new TextDecoder().decode(out.stderr));
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
