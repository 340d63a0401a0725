import assert from "node:assert/strict";
import { withStore } from "./test_util.ts";
import { XATTRS_KEPT } from "../engine/fs/xattrs.ts";

const ACL = new Uint8Array([1, 2, 3]);
const META = { mode: 0o40775, uid: 0, gid: 0, mtimeMs: 1 };

Deno.test({
  name: "folder rows: attributes read are recorded, none read as none, and those of a folder " +
    "that could not be opened to read them stay as recorded",
  ignore: !XATTRS_KEPT, // without FFI none are read, and those recorded always stay
  fn: () =>
    withStore((store) => {
      store.recordFolders(new Map([["s/d", { ...META, xattrs: ACL }]]));
      assert.deepEqual(store.folderMeta("s/d")?.xattrs, ACL);
      store.recordFolders(new Map([["s/d", { ...META, mtimeMs: 2, xattrsUnread: true }]]));
      assert.deepEqual(store.folderMeta("s/d"), { ...META, mtimeMs: 2, xattrs: ACL });
      store.recordFolders(new Map([["s/d", { ...META, mtimeMs: 3 }]]));
      assert.deepEqual(store.folderMeta("s/d"), { ...META, mtimeMs: 3 });
    }),
});
