/**
 * Extended attributes (and so POSIX ACLs and file capabilities) read from and given to
 * files, through the C library: flistxattr and fgetxattr on a descriptor already open (a
 * source file as it is read, so the attributes are those of exactly the bytes read), and
 * fsetxattr / fremovexattr on a descriptor, or their l* forms on a path (never following
 * a symlink at its end). Which names are kept and how a set is encoded: xattr_codec.ts.
 *
 * Only on Linux with glibc and FFI permitted (`deno run -A`, the compiled binary), as
 * libc.ts; elsewhere (macOS, Windows, musl, no ffi permission) nothing is read or given:
 * `XATTRS_KEPT` is false, reads give none and sets do nothing. A file with no attributes
 * costs one flistxattr (its answer, 0, is all of it). An attribute that cannot be read
 * (removed meanwhile, refused, not supported) is left out, never failing the file; one that
 * cannot be set is returned as a refusal for the caller to say or pass over. Only
 * attributes are changed here: an interruption leaves a file with some of them set, which
 * its caller (a temporary file, or a stored copy the next run sets again) deals with.
 */
import {
  EINTR,
  errnoOf,
  FILE_SYMBOLS,
  O_DIRECTORY,
  O_NOFOLLOW,
  O_NONBLOCK,
  O_RDONLY_CLOEXEC,
  openLibc,
} from "./libc.ts";
import {
  AT_EMPTY_PATH,
  fromStatx,
  type Identity,
  STATX_BASIC_STATS,
  STATX_SIZE,
} from "./folders.ts";
import { openPath } from "./identity.ts";
import {
  cName,
  decodeXattrs,
  encodeXattrs,
  isKeptName,
  namesIn,
  nameText,
  sameBytes,
  VALUE_MAX_BYTES,
  type Xattr,
} from "../../core/xattr_codec.ts";

const SYMBOLS = {
  ...FILE_SYMBOLS,
  flistxattr: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  fgetxattr: { parameters: ["i32", "buffer", "buffer", "usize"], result: "isize" },
  fsetxattr: { parameters: ["i32", "buffer", "buffer", "usize", "i32"], result: "i32" },
  fremovexattr: { parameters: ["i32", "buffer"], result: "i32" },
  llistxattr: { parameters: ["buffer", "buffer", "usize"], result: "isize" },
  lsetxattr: { parameters: ["buffer", "buffer", "buffer", "usize", "i32"], result: "i32" },
  lremovexattr: { parameters: ["buffer", "buffer"], result: "i32" },
} as const;

// Bound when the module loads (each worker loads its own), as source_file.ts binds its own.
const lib = openLibc(SYMBOLS);

/** Whether this process reads and gives extended attributes (see the module's comment). */
export const XATTRS_KEPT = lib !== undefined;

/** XATTR_LIST_MAX: the longest name list Linux gives for one file, in bytes (64 KiB). */
const LIST_MAX_BYTES = 65536;
/** The sizes the calls are given, as the FFI's usize (made once, not per call). */
const LIST_SIZE = BigInt(LIST_MAX_BYTES);
const VALUE_SIZE = BigInt(VALUE_MAX_BYTES);

/** errno values told apart (Linux's numbers). */
const ENODATA = 61;
const EPERM = 1;
const EACCES = 13;
const EOPNOTSUPP = 95;
const ENOENT = 2;

/** Buffers for a list and a value, made at the first file that has attributes. */
let listBuf: Uint8Array | undefined;
let valueBuf: Uint8Array | undefined;

/**
 * The kept attributes of the file open as `fd`, encoded, as base64 (what a scan entry and
 * a journal carry); undefined where it has none or they cannot be read here.
 */
export function readXattrs(fd: number | undefined): string | undefined {
  if (!lib || fd === undefined) return undefined;
  const attrs = readAll(fd);
  return attrs.length === 0 ? undefined : encodeXattrs(attrs)!.toBase64();
}

/**
 * The kept attributes of the folder at `path` (a default ACL, an access ACL, user.*
 * ones), encoded; undefined where it has none or they are not read here; null where it
 * cannot be opened (no permission, no descriptor left, gone, not a folder now: a symlink
 * at its end is never followed), or is not the folder `seen` (its device and inode, as
 * the walk saw it: another renamed to its name since, or a folder on the way swapped for
 * a symlink, whose attributes, an ACL of someone else's choosing, would be recorded with
 * the mode and owner seen), so that those recorded are not taken for none. It is opened
 * only for this, read-only, and closed at once.
 */
export function readFolderXattrs(path: string, seen: Identity): Uint8Array | null | undefined {
  if (!lib) return undefined;
  const { open, close } = lib.symbols;
  const flags = O_RDONLY_CLOEXEC | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK;
  const fd = retried(() => open(cString(path), flags));
  if (fd < 0) return null;
  try {
    if (!isFolderSeen(fd, seen)) return null;
    const attrs = readAll(fd);
    return attrs.length === 0 ? undefined : encodeXattrs(attrs);
  } finally {
    close(fd);
  }
}

/** statx(2) of a descriptor itself, bound apart: a C library without it still reads attributes. */
const statLib = openLibc({
  statx: { parameters: ["i32", "buffer", "i32", "u32", "buffer"], result: "i32" },
});
const statxOut = new Uint8Array(STATX_SIZE);
const EMPTY_PATH = new Uint8Array(1);

/** Whether the folder open as `fd` is `seen` (same device and inode). */
function isFolderSeen(fd: number, seen: Identity): boolean {
  let now: Identity;
  if (statLib) {
    const r = statLib.symbols.statx(fd, EMPTY_PATH, AT_EMPTY_PATH, STATX_BASIC_STATS, statxOut);
    if (r !== 0) return false;
    now = fromStatx(new DataView(statxOut.buffer));
  } else {
    const at = openPath(fd);
    if (at === undefined) return false;
    try {
      const info = Deno.statSync(at); // the open folder itself, through /proc
      now = { dev: info.dev ?? 0, ino: info.ino ?? 0 };
    } catch {
      return false;
    }
  }
  return now.dev === seen.dev && now.ino === seen.ino;
}

/** The kept attributes of the file open as `fd`, as far as they can be read. */
function readAll(fd: number): Xattr[] {
  const { flistxattr, fgetxattr } = lib!.symbols;
  listBuf ??= new Uint8Array(LIST_MAX_BYTES);
  const n = retried(() => Number(flistxattr(fd, listBuf!, LIST_SIZE)));
  if (n <= 0) return []; // none; or none can be listed (ENOTSUP: a disk without them)
  const attrs: Xattr[] = [];
  for (const name of namesIn(listBuf, n)) {
    if (!isKeptName(name)) continue;
    valueBuf ??= new Uint8Array(VALUE_MAX_BYTES);
    const c = cName(name);
    const size = retried(() => Number(fgetxattr(fd, c, valueBuf!, VALUE_SIZE)));
    // Removed since it was listed (ENODATA), or refused: left out, the file read all the same.
    if (size >= 0) attrs.push({ name, value: valueBuf.slice(0, size) });
  }
  return attrs;
}

/**
 * The names of the attributes `encoded` records that the file open as `fd` lacks or holds
 * with another value, of those `asked` (those this process could give there, and see: a
 * root without CAP_SYS_ADMIN is shown no trusted.* one); what the file has beyond them is
 * its own (a folder's default ACL gives a new file one). None where attributes are not
 * read here, or the record cannot be read (said where it is given).
 */
export function missingXattrs(
  fd: number,
  encoded: Uint8Array,
  asked: (name: Uint8Array) => boolean,
): string[] {
  if (!lib) return [];
  let wanted: Xattr[];
  try {
    wanted = decodeXattrs(encoded);
  } catch {
    return [];
  }
  const have = readAll(fd);
  return wanted.filter((a) =>
    asked(a.name) &&
    !have.some((h) => sameBytes(h.name, a.name) && sameBytes(h.value, a.value))
  ).map((a) => nameText(a.name));
}

/** Where attributes are given: an open descriptor, or a path (its end never followed). */
export type XattrTarget = { fd: number } | { path: string };

/** An attribute a file system or the system would not take. */
export interface Refusal {
  name: string;
  /**
   * "unsupported": the disk keeps none of that kind (FAT, exFAT, some network shares);
   * "denied": only root may set it (trusted.*, security.capability); "other": another
   * reason (no room left for attributes, a value too large for the disk).
   */
  kind: "unsupported" | "denied" | "other";
  /** The system's words for it ("Operation not supported"). */
  why: string;
}

/**
 * Gives `target` the attributes `encoded` holds (the state's BLOB, or a scan entry's
 * base64): each set, created or replaced. `exact`: the kept attributes it has and the
 * record has not are removed too (a stored copy brought up to date); a new file keeps
 * what its folder gave it (a default ACL). Returns what was refused; never throws for an
 * attribute.
 */
export function applyXattrs(
  target: XattrTarget,
  encoded: Uint8Array | string | undefined,
  exact: boolean,
): Refusal[] {
  if (!lib) return [];
  let wanted: Xattr[];
  try {
    const blob = typeof encoded === "string" ? Uint8Array.fromBase64(encoded) : encoded;
    wanted = blob === undefined ? [] : decodeXattrs(blob);
  } catch (e) {
    // A record this tool cannot read (a damaged state): the file goes without, said.
    return [{ name: "(all)", kind: "other", why: (e as Error).message }];
  }
  const refused: Refusal[] = [];
  const failed = (name: Uint8Array) => {
    const refusal = refusalOf(name, errnoOf(lib));
    if (refusal) refused.push(refusal);
  };
  if (exact) {
    for (const name of listed(target)) {
      if (!isKeptName(name) || wanted.some((a) => sameBytes(a.name, name))) continue;
      if (remove(target, cName(name)) !== 0) failed(name);
    }
  }
  for (const { name, value } of wanted) {
    if (set(target, cName(name), value) !== 0) failed(name);
  }
  return refused;
}

/** The names `target` has now (none where they cannot be listed). */
function listed(target: XattrTarget): Uint8Array[] {
  const { flistxattr, llistxattr } = lib!.symbols;
  listBuf ??= new Uint8Array(LIST_MAX_BYTES);
  const n = "fd" in target
    ? retried(() => Number(flistxattr(target.fd, listBuf!, LIST_SIZE)))
    : retried(() => Number(llistxattr(cString(target.path), listBuf!, LIST_SIZE)));
  return n <= 0 ? [] : namesIn(listBuf, n);
}

function set(target: XattrTarget, name: Uint8Array, value: Uint8Array): number {
  const { fsetxattr, lsetxattr } = lib!.symbols;
  const size = BigInt(value.length);
  return "fd" in target
    ? retried(() => fsetxattr(target.fd, name, value, size, 0))
    : retried(() => lsetxattr(cString(target.path), name, value, size, 0));
}

function remove(target: XattrTarget, name: Uint8Array): number {
  const { fremovexattr, lremovexattr } = lib!.symbols;
  return "fd" in target
    ? retried(() => fremovexattr(target.fd, name))
    : retried(() => lremovexattr(cString(target.path), name));
}

/** What a failed set or removal of `name` means; undefined where nothing is lost. */
function refusalOf(name: Uint8Array, errno: number): Refusal | undefined {
  if (errno === ENODATA) return undefined; // a removal of one gone meanwhile
  const kind = errno === EOPNOTSUPP
    ? "unsupported"
    : errno === EPERM || errno === EACCES
    ? "denied"
    : "other";
  const text = lib!.symbols.strerror(errno);
  const why = text === null ? `os error ${errno}` : Deno.UnsafePointerView.getCString(text);
  return { name: nameText(name), kind, why: errno === ENOENT ? "the file is gone" : why };
}

/** A call made again while a signal interrupts it (as Deno's own calls are). */
function retried(call: () => number): number {
  for (;;) {
    const r = call();
    if (r >= 0 || errnoOf(lib!) !== EINTR) return r;
  }
}

function cString(path: string): Uint8Array {
  return cName(new TextEncoder().encode(path));
}
