/**
 * Extended attributes through the C library, on real files (Linux with FFI; skipped where
 * the tool reads none, or the temporary folder's file system keeps no user.* attributes):
 * what is set by path or descriptor reads back from an open descriptor as set, a file
 * without any reads as none, an exact set removes the kept names it does not hold, and the
 * recorded ones a file lacks are named.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { openSource } from "./source_file.ts";
import { applyXattrs, missingXattrs, readXattrs, XATTRS_KEPT } from "./xattrs.ts";
import {
  decodeXattrs,
  encodeXattrs,
  isRootOnlyName,
  nameText,
  type Xattr,
} from "../../core/xattr_codec.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const attr = (name: string, value: string): Xattr => ({ name: bytes(name), value: bytes(value) });

/** The attributes read from `path`'s open descriptor, as [name, value] texts. */
function readBack(path: string): [string, string][] {
  using f = openSource(path);
  const read = readXattrs(f.fd);
  if (read === undefined) return [];
  return decodeXattrs(Uint8Array.fromBase64(read)).map((
    a,
  ) => [nameText(a.name), nameText(a.value)]);
}

/** Runs `fn` in a new temporary folder, removed after it. */
function inTempDir(fn: (dir: string) => void): void {
  const dir = Deno.makeTempDirSync();
  try {
    fn(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/** Whether the temporary folder's file system takes user.* attributes. */
function userXattrsKept(): boolean {
  let kept = false;
  inTempDir((dir) => {
    const probe = join(dir, "probe");
    Deno.writeTextFileSync(probe, "");
    kept =
      applyXattrs({ path: probe }, encodeXattrs([attr("user.probe", "1")]), false).length === 0;
  });
  return kept;
}

const ignore = !XATTRS_KEPT || !userXattrsKept();

Deno.test({
  name: "xattrs: set by path, read back from a descriptor; a file without any reads as none",
  ignore,
  fn: () =>
    inTempDir((dir) => {
      const tagged = join(dir, "tagged");
      const plain = join(dir, "plain");
      Deno.writeTextFileSync(tagged, "t");
      Deno.writeTextFileSync(plain, "p");
      const set = encodeXattrs([attr("user.b", "2"), attr("user.a", ""), attr("user.c", "x")]);
      assert.deepEqual(applyXattrs({ path: tagged }, set, false), []);
      assert.deepEqual(readBack(tagged), [["user.a", ""], ["user.b", "2"], ["user.c", "x"]]);
      assert.deepEqual(readBack(plain), []);
    }),
});

Deno.test({
  name: "xattrs: an exact set through a descriptor removes the kept names it does not hold",
  ignore,
  fn: () =>
    inTempDir((dir) => {
      const path = join(dir, "f");
      Deno.writeTextFileSync(path, "f");
      applyXattrs({ path }, encodeXattrs([attr("user.old", "1"), attr("user.keep", "1")]), false);
      {
        using f = openSource(path);
        const next = encodeXattrs([attr("user.keep", "2"), attr("user.new", "3")]);
        assert.deepEqual(applyXattrs({ fd: f.fd! }, next, true), []);
      }
      assert.deepEqual(readBack(path), [["user.keep", "2"], ["user.new", "3"]]);
      {
        using f = openSource(path);
        assert.deepEqual(applyXattrs({ fd: f.fd! }, undefined, true), []);
      }
      assert.deepEqual(readBack(path), []);
    }),
});

Deno.test({
  name: "xattrs: a record that cannot be read is a refusal, never an error",
  ignore,
  fn: () =>
    inTempDir((dir) => {
      const path = join(dir, "f");
      Deno.writeTextFileSync(path, "f");
      const refused = applyXattrs({ path }, new Uint8Array([1, 5, 0x75]), false);
      assert.deepEqual(refused.map((r) => r.kind), ["other"]);
      assert.match(refused[0].why, /cut short/);
      assert.deepEqual(readBack(path), []);
    }),
});

Deno.test({
  name: "xattrs: the recorded ones a file lacks or holds otherwise are named, those only " +
    "root gives only for root, and its own beyond the record are not",
  ignore,
  fn: () =>
    inTempDir((dir) => {
      const path = join(dir, "f");
      Deno.writeTextFileSync(path, "f");
      applyXattrs({ path }, encodeXattrs([attr("user.same", "1"), attr("user.own", "x")]), false);
      const record = encodeXattrs([
        attr("user.same", "1"),
        attr("user.other", "2"),
        attr("trusted.t", "3"),
        attr("security.capability", "4"),
      ])!;
      using f = openSource(path);
      const all = () => true;
      const notRoot = (name: Uint8Array) => !isRootOnlyName(name);
      assert.deepEqual(missingXattrs(f.fd!, record, notRoot), ["user.other"]);
      assert.deepEqual(missingXattrs(f.fd!, record, all), [
        "security.capability",
        "trusted.t",
        "user.other",
      ]);
      assert.deepEqual(missingXattrs(f.fd!, encodeXattrs([attr("user.same", "1")])!, all), []);
      // Another value is not the recorded one.
      assert.deepEqual(missingXattrs(f.fd!, encodeXattrs([attr("user.own", "y")])!, all), [
        "user.own",
      ]);
      // A record that cannot be read asks for nothing (applyXattrs says it where it is given).
      assert.deepEqual(missingXattrs(f.fd!, new Uint8Array([1, 5, 0x75]), all), []);
    }),
});
