import assert from "node:assert/strict";
import { permittedMode } from "./owner.ts";

Deno.test("permittedMode: a set-ID bit only where its owner (group) is the recorded one", () => {
  const meta = { mode: 0o6755, uid: 1000, gid: 100 };
  assert.equal(permittedMode(0o6755, meta, { uid: 1000, gid: 100 }), 0o6755);
  assert.equal(permittedMode(0o6755, meta, { uid: 0, gid: 100 }), 0o2755);
  assert.equal(permittedMode(0o6755, meta, { uid: 1000, gid: 0 }), 0o4755);
  assert.equal(permittedMode(0o6755, meta, { uid: 0, gid: 0 }), 0o755);
  // Recorded before owners were: neither bit.
  assert.equal(permittedMode(0o6755, { mode: 0o6755 }, { uid: 1000, gid: 100 }), 0o755);
  // The sticky bit and the rest are the recorded ones, whoever owns the file.
  assert.equal(permittedMode(0o1777, meta, { uid: 0, gid: 0 }), 0o1777);
  assert.equal(permittedMode(0o100644, meta, { uid: 0, gid: 0 }), 0o644);
});
