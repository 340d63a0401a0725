import assert from "node:assert/strict";
import { otherMounts } from "./mounts.ts";

const MOUNTINFO = [
  "27 1 253:0 / / rw - ext4 /dev/vda rw",
  "90 27 253:0 /srv/x/bk/docs /tmp/t/docs rw - ext4 /dev/vda rw", // a folder in the root
  "91 27 253:0 /srv/x /mnt/x rw - ext4 /dev/vda rw", // a folder holding the root
  "92 27 253:0 /srv/x/bk /tmp/view rw - ext4 /dev/vda rw", // the root itself
  "93 27 0:44 / /srv/x/bk/other rw - tmpfs tmpfs rw", // another file system inside it
  "94 27 253:0 /srv/y /tmp/yy rw - ext4 /dev/vda rw", // elsewhere on the same disk
  "95 27 253:0 /srv/x/bk\\040old /tmp/sp rw - ext4 /dev/vda rw", // "bk old": not inside bk
].join("\n");

Deno.test("otherMounts: every other path where the folder, or a part of it, is mounted", () => {
  assert.deepEqual(otherMounts(MOUNTINFO, "/srv/x/bk"), ["/tmp/t/docs", "/mnt/x/bk", "/tmp/view"]);
  // Seen through a bind mount itself, the folder's own place counts as another.
  assert.deepEqual(otherMounts(MOUNTINFO, "/tmp/view"), [
    "/srv/x/bk",
    "/tmp/t/docs",
    "/mnt/x/bk",
  ]);
  assert.deepEqual(otherMounts(MOUNTINFO, "/srv/z"), []);
});
