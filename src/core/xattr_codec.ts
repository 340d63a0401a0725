/**
 * Extended attributes as the state keeps them: which names are kept, and one compact,
 * deterministic encoding of a file's set (the `copies.xattrs` BLOB, schema 6). Pure: no
 * disk, no system call; xattrs.ts reads and sets them through the C library.
 *
 * Kept: `user.*`, `trusted.*` (which only root can read or set), `security.capability`
 * (file capabilities) and `system.posix_acl_access` / `system.posix_acl_default` (POSIX
 * ACLs). Left out: `security.selinux` and the other `security.*` labels, which the target
 * system's policy gives (restoring one blindly would mislabel the file), and any other
 * `system.*` name (NFSv4 ACLs, which the file system computes).
 *
 * Encoding: one format byte (1), then each attribute in byte order of its name: the name's
 * length (1 byte: Linux names are at most 255 bytes), the name, the value's length (4
 * bytes, little-endian: a value may be 65,536 bytes, one more than 2 bytes can say), the
 * value. Names and values are bytes, as the kernel gives them (a name need not be UTF-8).
 */

/** One extended attribute: its name and value, as bytes. */
export interface Xattr {
  name: Uint8Array;
  value: Uint8Array;
}

/** The first byte of every encoded set: the format, for a later one to be told apart. */
const FORMAT = 1;
/** XATTR_NAME_MAX: the longest name Linux takes, in bytes (one length byte holds it). */
const NAME_MAX_BYTES = 255;
/** XATTR_SIZE_MAX: the largest value Linux takes, in bytes (64 KiB). */
export const VALUE_MAX_BYTES = 65536;
/** Bytes of a value's length in the encoding (little-endian). */
const VALUE_LENGTH_BYTES = 4;

const encoder = new TextEncoder();
const KEPT_PREFIXES = ["user.", "trusted."].map((p) => encoder.encode(p));
const ACL_NAMES = ["system.posix_acl_access", "system.posix_acl_default"].map((n) =>
  encoder.encode(n)
);
const KEPT_NAMES = [encoder.encode("security.capability"), ...ACL_NAMES];

/** Whether an attribute of this name is kept (see the module's comment). */
export function isKeptName(name: Uint8Array): boolean {
  return KEPT_PREFIXES.some((p) => startsWith(name, p)) ||
    KEPT_NAMES.some((n) => sameBytes(n, name));
}

/** Whether an attribute is a POSIX ACL, which a disk may refuse while it keeps user.* ones. */
export function isAclName(name: Uint8Array): boolean {
  return ACL_NAMES.some((n) => sameBytes(n, name));
}

const ROOT_ONLY = [encoder.encode("trusted."), encoder.encode("security.capability")];

/**
 * Whether only root (CAP_SYS_ADMIN, CAP_SETFCAP) may read or give an attribute of this
 * name: trusted.* and file capabilities.
 */
export function isRootOnlyName(name: Uint8Array): boolean {
  return ROOT_ONLY.some((p) => startsWith(name, p));
}

/**
 * The names in a listxattr(2) result: `n` bytes of `list`, each name ended by a NUL. The
 * names are copies (the list's buffer is reused).
 */
export function namesIn(list: Uint8Array, n: number): Uint8Array[] {
  const names: Uint8Array[] = [];
  for (let start = 0; start < n;) {
    let end = list.indexOf(0, start);
    if (end < 0 || end > n) end = n;
    if (end > start) names.push(list.slice(start, end));
    start = end + 1;
  }
  return names;
}

/** The encoding of a set of attributes, in name order; undefined for none. */
export function encodeXattrs(attrs: readonly Xattr[]): Uint8Array | undefined {
  if (attrs.length === 0) return undefined;
  const sorted = [...attrs].sort((a, b) => compareBytes(a.name, b.name));
  let size = 1;
  for (const { name, value } of sorted) {
    if (name.length === 0 || name.length > NAME_MAX_BYTES) {
      throw new RangeError(`Cannot encode an extended attribute name of ${name.length} bytes`);
    }
    size += 1 + name.length + VALUE_LENGTH_BYTES + value.length;
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = FORMAT;
  let at = 1;
  for (const { name, value } of sorted) {
    out[at++] = name.length;
    out.set(name, at);
    at += name.length;
    view.setUint32(at, value.length, true);
    at += VALUE_LENGTH_BYTES;
    out.set(value, at);
    at += value.length;
  }
  return out;
}

/** The attributes an encoding holds; throws where it is not one this module wrote. */
export function decodeXattrs(blob: Uint8Array): Xattr[] {
  if (blob.length === 0 || blob[0] !== FORMAT) {
    throw new RangeError(`Cannot read extended attributes: unknown format ${blob[0]}`);
  }
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const attrs: Xattr[] = [];
  for (let at = 1; at < blob.length;) {
    const nameLength = blob[at++];
    const valueAt = at + nameLength + VALUE_LENGTH_BYTES;
    if (nameLength === 0 || valueAt > blob.length) throw truncated();
    const name = blob.slice(at, at + nameLength);
    const valueLength = view.getUint32(at + nameLength, true);
    if (valueAt + valueLength > blob.length) throw truncated();
    attrs.push({ name, value: blob.slice(valueAt, valueAt + valueLength) });
    at = valueAt + valueLength;
  }
  return attrs;
}

function truncated(): RangeError {
  return new RangeError("Cannot read extended attributes: the record is cut short");
}

/** A name as text, for messages (bytes that are not UTF-8 are shown as U+FFFD). */
export function nameText(name: Uint8Array): string {
  return new TextDecoder().decode(name);
}

/** `name` and a NUL after it: the C string the system calls take. */
export function cName(name: Uint8Array): Uint8Array {
  const c = new Uint8Array(name.length + 1);
  c.set(name);
  return c;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && compareBytes(a, b) === 0;
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}
