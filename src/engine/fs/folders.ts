/**
 * The scanner's reads of a folder: its children's names, and lstat of its files. With
 * Deno's API (`Deno.readDirSync`, `Deno.lstatSync`) that costs about 2 µs a listed name
 * and 4 µs a file here (a full path resolved by the kernel, a permission check, objects
 * with four Dates each); on Linux, getdents64(2) and statx(2) through Deno's FFI, relative
 * to one descriptor of the folder, cost about a third of that (100,000 files: a no-change
 * run went from 1.6 s to 1.2 s). They give exactly what the Deno calls give — names
 * decoded the same way, times to the millisecond with Deno's quirks (a change time in
 * whole seconds) — so fingerprints recorded by either match: folders_test.ts compares both
 * on every kind of entry. Where FFI is not permitted (`deno run` without -A), glibc lacks a
 * symbol, or the system is not Linux, the Deno API is used. Read-only; a folder's
 * descriptor is held while the walk is inside it (one per level of nesting, up to
 * `heldFoldersLimit`; deeper, only the folder the walk is in holds one, given up when the
 * walk goes deeper and opened anew when it comes back) and closed when the walk leaves it
 * or is abandoned.
 *
 * A folder is opened by its path, so a folder on the way swapped for a symlink while the
 * walk runs would lead it elsewhere (to files the sources never held). Given the identity
 * its parent's listing saw (`expect`), a folder whose opened descriptor (or, with Deno's
 * API, whose lstat) is another file is refused as replaced while being walked.
 */
import {
  callFailure,
  cStringIn,
  FILE_SYMBOLS,
  O_NONBLOCK,
  O_RDONLY_CLOEXEC,
  openLibc,
  PATH_BYTES,
} from "./libc.ts";
import type { StatFields } from "../../core/types.ts";
import { openFilesLimit } from "./flush.ts";

/** What the scanner needs of an lstat result. */
export interface StatResult extends StatFields {
  kind: "file" | "dir" | "symlink" | "fifo" | "socket" | "device";
  /**
   * The change time to the nanosecond as `<seconds>.<nanoseconds>` (statx), where it is
   * known: `ctimeMs` is to the second, as Deno gives it, so that fingerprints taken with
   * and without FFI compare. Two looks at one open file compare this.
   */
  ctimeExact?: string;
  /**
   * 512-byte units the file occupies on disk (st_blocks), where the system says (not
   * Windows): below its size, the file has holes (sparse.ts). Not part of the fingerprint.
   */
  blocks?: number;
}

/** Which file a folder is: what its parent's listing saw. */
export interface Identity {
  ino: number;
  dev: number;
}

export interface Folders {
  /** A folder's children, unsorted, folders with a trailing `/`; throws if it cannot be listed. */
  listKeys(dir: string, expect?: Identity): string[];
  /** Opens a folder to lstat its children (with FFI, one descriptor, held until closed). */
  open(dir: string, expect?: Identity): OpenFolder;
  /**
   * What is at a full path, a symlink at its end not followed; undefined where nothing is
   * or it cannot be looked at. With FFI a miss throws nothing: Deno's lstat turns it into
   * an exception, about 20 µs against 4 µs for a hit.
   */
  kindAt(abs: string): StatResult["kind"] | undefined;
  close(): void;
}

/** The error for a folder that is not the one its parent's listing saw. */
function replaced(dir: string): Error {
  return new Error(`'${dir}' was replaced while being walked (a symlink or another folder)`);
}

function sameIdentity(a: Identity, b: Identity): boolean {
  return a.ino === b.ino && a.dev === b.dev;
}

export interface OpenFolder {
  /** lstat of the child `name`, whose full path is `abs`: the result, or the error. */
  stat(name: string, abs: string): StatResult | Error;
  close(): void;
  /** Set when the folder opened is not the one expected: nothing in it may be used. */
  replaced?: Error;
}

/** Deno's lstat of one path: the result, or the error. */
export function denoStat(abs: string): StatResult | Error {
  try {
    return fromFileInfo(Deno.lstatSync(abs));
  } catch (e) {
    return e as Error;
  }
}

const DENO_FOLDER: OpenFolder = { stat: (_name, abs) => denoStat(abs), close: () => {} };

/** Deno's API: one readDir per folder, one lstat per path. */
export const denoFolders: Folders = {
  listKeys: (dir, expect) => {
    if (expect) {
      const info = fromFileInfo(Deno.lstatSync(dir));
      if (info.kind !== "dir" || !sameIdentity(info, expect)) throw replaced(dir);
    }
    const keys: string[] = [];
    for (const d of Deno.readDirSync(dir)) keys.push(d.isDirectory ? `${d.name}/` : d.name);
    return keys;
  },
  open: () => DENO_FOLDER,
  kindAt: (abs) => {
    const info = denoStat(abs);
    return info instanceof Error ? undefined : info.kind;
  },
  close: () => {},
};

/** getdents64 and statx through FFI on Linux where available, else Deno's API. */
export function openFolders(): Folders {
  return ffiFolders() ?? denoFolders;
}

/** The fingerprint fields of an lstat result. */
export function statFields(info: Deno.FileInfo): StatFields {
  const { kind: _, blocks: _blocks, ...fields } = fromFileInfo(info);
  return fields;
}

export function fromFileInfo(info: Deno.FileInfo): StatResult {
  return {
    kind: info.isFile
      ? "file"
      : info.isDirectory
      ? "dir"
      : info.isSymlink
      ? "symlink"
      : info.isFifo
      ? "fifo"
      : info.isSocket
      ? "socket"
      : "device",
    size: info.size,
    mtimeMs: info.mtime?.getTime() ?? 0,
    ctimeMs: info.ctime?.getTime() ?? 0,
    ino: info.ino ?? 0,
    dev: info.dev ?? 0,
    mode: info.mode ?? 0,
    uid: info.uid ?? undefined,
    gid: info.gid ?? undefined,
    nlink: info.nlink ?? undefined,
    blocks: info.blocks ?? undefined,
  };
}

// Folders are opened without O_DIRECTORY (its value differs between architectures): on a
// non-folder, getdents64 and statx fail with ENOTDIR anyway.
const SYMBOLS = {
  ...FILE_SYMBOLS,
  statx: { parameters: ["i32", "buffer", "i32", "u32", "buffer"], result: "i32" },
  getdents64: { parameters: ["i32", "buffer", "usize"], result: "isize" },
} as const;
const AT_SYMLINK_NOFOLLOW = 0x100;
/** A path relative to the working folder (or absolute): openat's AT_FDCWD. */
const AT_FDCWD = -100;
/** statx of the descriptor itself (an empty path). */
export const AT_EMPTY_PATH = 0x1000;
/** STATX_BASIC_STATS: type, mode, nlink, uid, gid, times, ino, size, blocks. */
export const STATX_BASIC_STATS = 0x7ff;
/** STATX_BLOCKS: stx_blocks, in STATX_BASIC_STATS; a file system may leave it out. */
const STATX_BLOCKS = 0x400;
/** STATX_TYPE: the file type only. */
const STATX_TYPE = 0x1;
/** struct statx is 256 bytes; offsets below are from linux/stat.h (the same on all arches). */
export const STATX_SIZE = 256;

/** Bytes read per getdents64 call: about 1,000 names. */
const DIRENT_BUFFER_BYTES = 32 << 10;
/** d_type values (dirent.h); DT_UNKNOWN means the file system does not say. */
const DT_UNKNOWN = 0;
const DT_DIR = 4;

/**
 * Folders a walk holds open at once, at most: an eighth of the open files limit (128 under
 * Linux's usual 1,024), and two walks may run at once (the walk worker's). One descriptor a
 * level had a folder 34 levels deep fail to list under `ulimit -n 64`, every file below it
 * left out of every run, and some 1,000 levels under the usual 1,024 (limits hunt). Deeper,
 * the last of them is held by one folder at a time (see `openStat`): each return to a
 * folder from one below it costs an open and a statx, and a folder swapped for a symlink is
 * still refused.
 * (From 2026-12-04 to this fix, such folders were looked at by path, where a swap between
 * a folder's listing and its children's lstat went unseen.)
 */
function heldFoldersLimit(): number {
  return Math.max(4, Math.floor(openFilesLimit() / 8));
}

/** The FFI implementation, or undefined where it is not available or not permitted. */
export function ffiFolders(): Folders | undefined {
  const lib = openLibc(SYMBOLS);
  if (!lib) return undefined;
  const held = heldFoldersLimit();
  const { open, close, statx, getdents64 } = lib.symbols;
  const out = new Uint8Array(STATX_SIZE);
  const view = new DataView(out.buffer);
  const path = new Uint8Array(PATH_BYTES);
  const cString = (s: string) => cStringIn(s, path);
  const failure = (call: string, at: string) => callFailure(lib, call, at);
  const dents = new Uint8Array(DIRENT_BUFFER_BYTES);
  const dentView = new DataView(dents.buffer);
  const decoder = new TextDecoder(); // replaces invalid UTF-8 as Deno's readDir does
  const empty = new Uint8Array(1);
  // -1: it could not be opened (the Deno call reports why); -2: it is another file.
  // Without waiting, should a FIFO have taken the folder's place since it was listed.
  const openFolder = (dir: string, expect?: Identity): number => {
    const at = cString(dir);
    const fd = at ? open(at, O_RDONLY_CLOEXEC | O_NONBLOCK) : -1;
    if (fd < 0 || !expect) return fd;
    const ok = statx(fd, empty, AT_EMPTY_PATH, STATX_BASIC_STATS, out) === 0 &&
      sameIdentity(fromStatx(view), expect);
    if (ok) return fd;
    close(fd);
    return -2;
  };
  const isFolder = (fd: number, name: string): boolean => {
    const at = cString(name);
    return !!at && statx(fd, at, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, out) === 0 &&
      kindOf(view.getUint16(28, true)) === "dir";
  };
  const listKeys = (dir: string, expect?: Identity): string[] => {
    const fd = openFolder(dir, expect);
    if (fd === -2) throw replaced(dir);
    if (fd < 0) return denoFolders.listKeys(dir, expect); // let the Deno call report it
    try {
      const keys: string[] = [];
      for (;;) {
        const n = Number(getdents64(fd, dents, BigInt(dents.length)));
        if (n < 0) throw failure("readdir", dir);
        if (n === 0) return keys;
        // struct linux_dirent64: d_ino u64, d_off i64, d_reclen u16, d_type u8, d_name.
        for (let at = 0; at < n; at += dentView.getUint16(at + 16, true)) {
          const end = dents.indexOf(0, at + 19);
          const name = decoder.decode(dents.subarray(at + 19, end));
          if (name === "." || name === "..") continue;
          const type = dents[at + 18];
          const isDir = type === DT_DIR || (type === DT_UNKNOWN && isFolder(fd, name));
          keys.push(isDir ? `${name}/` : name);
        }
      }
    } finally {
      close(fd);
    }
  };
  let holding = 0;
  /** The one folder past `held` that holds a descriptor now (see `openStat`). */
  let lent: { release(): void } | undefined;
  const identityOf = (fd: number): Identity | undefined =>
    statx(fd, empty, AT_EMPTY_PATH, STATX_BASIC_STATS, out) === 0 ? fromStatx(view) : undefined;
  // Past `held - 1` folders deep, one folder at a time holds a descriptor: the one the walk
  // is in (the `held`-th: never more than `held` at once; one more each, with the walk
  // worker's walk, failed runs under limits they fitted before, `ulimit -n 36`). It gives it
  // up when the walk enters a folder below, and opens its folder anew when the walk comes
  // back, refused if it is no longer the folder it was (a folder swapped for a symlink
  // meanwhile leads nowhere, at any depth).
  const openStat = (dir: string, expect?: Identity): OpenFolder => {
    const deep = holding >= held - 1;
    if (deep) lent?.release();
    let fd = openFolder(dir, expect);
    if (fd === -2) return { stat: () => replaced(dir), close: () => {}, replaced: replaced(dir) };
    if (fd < 0) return DENO_FOLDER; // the Deno call reports the problem, child by child
    holding++;
    const id = deep ? expect ?? identityOf(fd) : undefined;
    const release = () => {
      if (fd < 0) return;
      close(fd);
      fd = -1;
      holding--;
    };
    const lender = { release };
    if (deep) lent = lender;
    let closed = false;
    const reopen = (): number | Error => {
      if (closed) return new Error(`Cannot look in folder '${dir}': it was closed`);
      lent?.release();
      const again = id ? openFolder(dir, id) : -2;
      if (again === -2) return replaced(dir);
      if (again < 0) return failure("open", dir);
      holding++;
      lent = lender;
      return fd = again;
    };
    return {
      stat: (name, abs) => {
        const folder = fd >= 0 ? fd : reopen(); // before the name takes the path buffer
        if (folder instanceof Error) return folder;
        const at = cString(name);
        if (!at) return denoStat(abs);
        if (statx(folder, at, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, out) !== 0) {
          return failure("lstat", abs);
        }
        return fromStatx(view);
      },
      close: () => {
        closed = true;
        release();
        if (lent === lender) lent = undefined;
      },
    };
  };
  const kindAt = (abs: string) => {
    const at = cString(abs);
    if (!at) return denoFolders.kindAt(abs);
    const found = statx(AT_FDCWD, at, AT_SYMLINK_NOFOLLOW, STATX_TYPE, out) === 0;
    return found ? kindOf(view.getUint16(28, true)) : undefined;
  };
  return { listKeys, open: openStat, kindAt, close: () => lib.close() };
}

/** The fields of a struct statx, as `Deno.lstatSync` reports them. */
export function fromStatx(v: DataView): StatResult {
  const mode = v.getUint16(28, true);
  return {
    kind: kindOf(mode),
    size: u64(v, 40),
    // Deno gives modification times to the millisecond (toward zero) and the change time
    // in whole seconds.
    mtimeMs: millisTowardZero(
      v.getInt32(116, true) * 2 ** 32 + v.getUint32(112, true),
      v.getUint32(120, true),
    ),
    ctimeMs: (v.getInt32(100, true) * 2 ** 32 + v.getUint32(96, true)) * 1000,
    ctimeExact: `${v.getInt32(100, true) * 2 ** 32 + v.getUint32(96, true)}.${
      v.getUint32(104, true)
    }`,
    ino: u64(v, 32),
    dev: makedev(v.getUint32(136, true), v.getUint32(140, true)),
    mode,
    uid: v.getUint32(20, true),
    gid: v.getUint32(24, true),
    nlink: v.getUint32(16, true), // stx_nlink: in STATX_BASIC_STATS, no call of its own
    // stx_blocks, where stx_mask says the file system filled it in (STATX_BLOCKS).
    blocks: (v.getUint32(0, true) & STATX_BLOCKS) !== 0 ? u64(v, 48) : undefined,
  };
}

/**
 * A time of `sec` seconds and `nsec` nanoseconds (0 to 999,999,999, added) in whole
 * milliseconds cut toward zero, as Deno's lstat gives it: floored after 1970, raised
 * before (1969-12-31T23:59:58.123456789Z is -1876). Integers only: a double holding the
 * seconds in milliseconds has no room left for the nanoseconds' digits.
 */
function millisTowardZero(sec: number, nsec: number): number {
  const floored = sec * 1000 + Math.floor(nsec / 1e6);
  return sec < 0 && nsec % 1e6 !== 0 ? floored + 1 : floored;
}

function u64(v: DataView, at: number): number {
  return v.getUint32(at + 4, true) * 2 ** 32 + v.getUint32(at, true);
}

/** glibc's makedev (what st_dev, and so Deno's `dev`, holds). */
function makedev(major: number, minor: number): number {
  if (major < 0x1000 && minor < 0x100) return major * 0x100 + minor;
  const dev = ((BigInt(major) & 0xfffff000n) << 32n) | ((BigInt(major) & 0xfffn) << 8n) |
    ((BigInt(minor) & 0xffffff00n) << 12n) | (BigInt(minor) & 0xffn);
  return Number(dev);
}

/** The kind of entry the type bits of a `st_mode` name. */
export function kindOf(mode: number): StatResult["kind"] {
  switch (mode & 0o170000) {
    case 0o100000:
      return "file";
    case 0o040000:
      return "dir";
    case 0o120000:
      return "symlink";
    case 0o010000:
      return "fifo";
    case 0o140000:
      return "socket";
    default:
      return "device";
  }
}
