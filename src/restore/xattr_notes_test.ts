import assert from "node:assert/strict";
import { XattrNotes } from "./xattr_notes.ts";

const denied = { name: "trusted.t", kind: "denied" as const, why: "Operation not permitted" };

Deno.test("XattrNotes: one note per disk and kind of refusal", () => {
  const notes = new XattrNotes(false);
  notes.refused("/r/a", 1, [denied, { ...denied, name: "security.capability" }]);
  notes.refused("/r/b", 1, [denied, { name: "user.x", kind: "unsupported", why: "" }]);
  notes.refused("/s", 2, [denied]);
  assert.equal(notes.notes.length, 3);
  assert.match(notes.notes[0], /'trusted\.t'.*'\/r\/a' are without them; restore as root/);
  assert.match(notes.notes[1], /^the disk of '\/r\/b' keeps no extended attributes/);
  assert.match(notes.notes[2], /'\/s' are without them/);
});

Deno.test("XattrNotes: a root refused them is not told to restore as root", () => {
  const notes = new XattrNotes(true);
  notes.refused("/r", 1, [denied]);
  assert.doesNotMatch(notes.notes[0], /restore as root/);
  // Docker's root keeps CAP_SETFCAP by default: which one a refusal lacked is not claimed.
  assert.match(
    notes.notes[0],
    /may lack CAP_SYS_ADMIN, for trusted\.\*, or CAP_SETFCAP.*on the host/,
  );
});
