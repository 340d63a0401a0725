/**
 * The encoding of extended attributes: a round trip gives the set back in name order,
 * whatever order it came in (so equal sets encode to equal bytes), values up to 64 KiB
 * and empty ones included; the kept names; a listxattr result split into names.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeXattrs,
  encodeXattrs,
  isKeptName,
  namesIn,
  nameText,
  VALUE_MAX_BYTES,
  type Xattr,
} from "./xattr_codec.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const attr = (name: string, value: string | Uint8Array): Xattr => ({
  name: bytes(name),
  value: typeof value === "string" ? bytes(value) : value,
});
const texts = (attrs: Xattr[]) => attrs.map((a) => [nameText(a.name), nameText(a.value)]);

Deno.test("encodeXattrs: none is no record at all", () => {
  assert.equal(encodeXattrs([]), undefined);
});

Deno.test("encodeXattrs: sorted by name, so the same set encodes alike in any order", () => {
  const a = [attr("user.b", "2"), attr("user.a", "1"), attr("trusted.x", "")];
  const b = [a[2], a[0], a[1]];
  const encoded = encodeXattrs(a)!;
  assert.deepEqual(encoded, encodeXattrs(b));
  assert.deepEqual(texts(decodeXattrs(encoded)), [
    ["trusted.x", ""],
    ["user.a", "1"],
    ["user.b", "2"],
  ]);
});

Deno.test("encodeXattrs: a 64 KiB value and a 255-byte name come back whole", () => {
  const value = new Uint8Array(VALUE_MAX_BYTES).map((_, i) => i % 251);
  const name = `user.${"n".repeat(250)}`;
  const [back] = decodeXattrs(encodeXattrs([attr(name, value)])!);
  assert.equal(nameText(back.name), name);
  assert.deepEqual(back.value, value);
  assert.throws(() => encodeXattrs([attr(`${name}x`, "")]), RangeError);
});

Deno.test("decodeXattrs: a record cut short or of another format is refused", () => {
  const encoded = encodeXattrs([attr("user.a", "hello")])!;
  assert.throws(() => decodeXattrs(encoded.subarray(0, encoded.length - 1)), /cut short/);
  assert.throws(() => decodeXattrs(new Uint8Array([2])), /unknown format/);
  assert.throws(() => decodeXattrs(new Uint8Array()), /unknown format/);
});

Deno.test("decodeXattrs(encodeXattrs(x)) is x in name order (property)", () => {
  const name = fc.uint8Array({ minLength: 1, maxLength: 40 }).map((n) =>
    n.map((b) => b === 0 ? 1 : b)
  );
  const set = fc.uniqueArray(fc.record({ name, value: fc.uint8Array({ maxLength: 300 }) }), {
    selector: (a) => a.name.join(","),
    maxLength: 8,
  });
  fc.assert(fc.property(set, (attrs) => {
    const encoded = encodeXattrs(attrs);
    if (attrs.length === 0) return encoded === undefined;
    const back = decodeXattrs(encoded!);
    const key = (a: Xattr) => a.name.join(",") + ":" + a.value.join(",");
    assert.deepEqual(
      back.map(key).sort(),
      attrs.map(key).sort(),
    );
    assert.deepEqual(encodeXattrs(back), encoded);
    return true;
  }));
});

Deno.test("isKeptName: user, trusted, capabilities and ACLs; not SELinux labels", () => {
  for (
    const kept of [
      "user.a",
      "trusted.overlay.x",
      "security.capability",
      "system.posix_acl_access",
      "system.posix_acl_default",
    ]
  ) assert.ok(isKeptName(bytes(kept)), kept);
  for (
    const left of [
      "security.selinux",
      "security.ima",
      "security.capabilityx",
      "system.nfs4_acl",
      "user",
      "userx.a",
    ]
  ) assert.ok(!isKeptName(bytes(left)), left);
});

Deno.test("namesIn: a listxattr result split at its NULs, within its length", () => {
  const list = bytes("user.a\0security.selinux\0user.bb\0garbage");
  const n = list.length - "garbage".length;
  assert.deepEqual(namesIn(list, n).map(nameText), ["user.a", "security.selinux", "user.bb"]);
  assert.deepEqual(namesIn(list, 0), []);
});
