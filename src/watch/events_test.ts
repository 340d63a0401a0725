/**
 * Unit tests of events.ts with a stand-in for `Deno.watchFs` that fails as a tree changing
 * under it makes it fail: a folder planned is gone by the time it is watched.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type EventHandlers, followEvents } from "./events.ts";

/** Handlers that note the failures said and the rescans asked for. */
function noting() {
  const errors: unknown[] = [];
  let reopened = 0;
  const handlers: EventHandlers = {
    onEvent() {},
    onUndecodable() {},
    onError: (e) => errors.push(e),
    onReopen: () => reopened++,
    onPartial() {},
    onHeld() {},
    onStuck() {},
    onCloseOverdue() {},
    ending: () => ({ logFile: "/dev/null", code: 1 }),
  };
  return { handlers, errors, reopened: () => reopened };
}

/** `Deno.watchFs`, but the first `failures` calls fail as for a folder gone meanwhile. */
function failingFirst(failures: number, gone: Error) {
  let calls = 0;
  const watchFs: typeof Deno.watchFs = (paths, options) => {
    if (++calls <= failures) throw gone;
    return Deno.watchFs(paths, options);
  };
  return { watchFs, calls: () => calls };
}

const removed = new Deno.errors.NotFound("No path was found.");
const madeFile = new Deno.errors.NotADirectory("Not a directory (os error 20)");
const cases = [
  ["whole", false, 2, removed],
  ["around a symlink", true, 1, removed],
  ["replaced by a file", true, 1, madeFile],
] as const;
for (const [what, linked, failures, gone] of cases) {
  Deno.test(`events: a folder gone before it is watched is planned anew, no failure said (${what})`, async () => {
    const dir = Deno.makeTempDirSync();
    Deno.mkdirSync(join(dir, "a"));
    if (linked) Deno.symlinkSync("a", join(dir, "l")); // followed around: flat and a piece
    const { handlers, errors, reopened } = noting();
    const fake = failingFirst(failures, gone);
    const follower = followEvents([dir], handlers, { watchFs: fake.watchFs });
    try {
      assert.deepEqual(errors, []);
      assert.equal(reopened(), 0, "no rescan asked for: no event was lost");
      assert.ok(fake.calls() > failures, "opened once the plan held");
    } finally {
      await follower.close();
      Deno.removeSync(dir, { recursive: true });
    }
  });
}
