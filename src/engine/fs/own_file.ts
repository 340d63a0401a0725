/**
 * A file the tool keeps in its state folder (the lock, the reserve), opened to be written
 * only where its path names a regular file of its own: never through a symlink, never a
 * FIFO (whose open for writing would wait for a reader for good), never a file with other
 * names (a hard link elsewhere would change with it). Whoever can write the backup root
 * could otherwise swap one in at the moment root's run opens it (state_folder.ts checks
 * each before; this closes the moment between).
 *
 * On Linux with FFI: open(2) with O_NOFOLLOW | O_NONBLOCK (and O_CREAT, which with
 * O_NOFOLLOW never makes a file at a dangling symlink's target) gives a descriptor of
 * exactly what is there, reopened for Deno through /proc/self/fd (the same file, not the
 * path), then checked. Elsewhere (no FFI: another C library than glibc; macOS; Windows):
 * made exclusively (O_EXCL, which follows no symlink) if missing, opened by Deno and
 * checked before anything is written; a FIFO swapped in at that moment would hold the
 * open. `makeFile` makes the other files the tool writes in the backup root and changes
 * afterwards (staged copies), holding a descriptor to change them through. Nothing is
 * written here; an interruption leaves at most the empty file made.
 */
import { createIfMissing, OWN_FILE_MODE } from "./fsops.ts";
import { hasOpenPaths, isOpenFileItself, openPath } from "./identity.ts";
import { callFailure, cStringIn, O_NOFOLLOW, O_NONBLOCK, openLibc, PATH_BYTES } from "./libc.ts";

/** open(2) O_RDWR | O_CREAT | O_CLOEXEC: the same on every Linux architecture. */
const O_RDWR_CREAT_CLOEXEC = 0o2 | 0o100 | 0o2000000;
/** Permission bits of a file made here, before the umask: never writable by others. */
const NEW_FILE_MODE = OWN_FILE_MODE;

const SYMBOLS = {
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const;

/** Bound when the module loads (as source_file.ts binds its own), held for the process. */
const lib = openLibc(SYMBOLS);

/** Thrown where the path names something else than a regular file of its own. */
export class NotOwnFileError extends Error {}

/**
 * `path` opened to read and write, made (empty) if nothing is there; NotOwnFileError where
 * a symlink, a FIFO or anything but a regular file is there, or one with other names.
 */
export function openOwnFile(path: string): Deno.FsFile {
  const f = openThroughFd(path) ?? openByPath(path);
  if (!isOpenFileItself(f, path)) {
    f.close();
    throw new NotOwnFileError(`'${path}' is not a file of its own`);
  }
  return f;
}

/** A file made to be written, with the path of its held descriptor where there is one. */
interface MadeFile extends Disposable {
  readonly file: Deno.FsFile;
  /**
   * `/proc/self/fd/<n>` of a descriptor held open with it (Linux with FFI), which leads to
   * this very file whatever becomes of its path: its owner and mode are set through it.
   */
  readonly through: string | undefined;
  /** That descriptor's number (Linux with FFI): its extended attributes are set through it. */
  readonly fd?: number;
}

/**
 * A new file at `path` (nothing may be there: O_EXCL, which follows no symlink) to write,
 * created with `mode` (less the umask). `held`: with a descriptor held (see MadeFile),
 * where one can be: a staged copy in the backup root, whose owner and mode root's run sets
 * after reading a source whose owner decides how long that takes (someone who can write
 * the backup root could otherwise swap the state folder meanwhile, and a symlink at the
 * copy's name would lead the chown and chmod to a file of their choosing).
 */
export function makeFile(path: string, mode: number, held: boolean): MadeFile {
  if (held && lib && hasOpenPaths()) {
    const name = cStringIn(path, pathBytes);
    const fd = name ? lib.symbols.open(name, O_WRONLY_CREAT_EXCL_CLOEXEC | O_NOFOLLOW, mode) : -1;
    if (fd < 0 && name) throw callFailure(lib, "open", path);
    if (fd >= 0) {
      const through = openPath(fd)!;
      try {
        const file = Deno.openSync(through, { write: true });
        return {
          file,
          through,
          fd,
          [Symbol.dispose]: () => {
            file.close();
            lib.symbols.close(fd);
          },
        };
      } catch (e) {
        lib.symbols.close(fd);
        throw e;
      }
    }
  }
  const file = Deno.openSync(path, { write: true, createNew: true, mode });
  return { file, through: undefined, [Symbol.dispose]: () => file.close() };
}

/** The C string of the path opened last (reused: `cStringIn`). */
const pathBytes = new Uint8Array(PATH_BYTES);

/** open(2) O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC: the same on every Linux architecture. */
const O_WRONLY_CREAT_EXCL_CLOEXEC = 0o1 | 0o100 | 0o200 | 0o2000000;

function openThroughFd(path: string): Deno.FsFile | undefined {
  if (!lib || !hasOpenPaths()) return undefined;
  const name = cStringIn(path, new Uint8Array(PATH_BYTES));
  if (!name) return undefined;
  const fd = lib.symbols.open(name, O_RDWR_CREAT_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, NEW_FILE_MODE);
  if (fd < 0) {
    const e = callFailure(lib, "open", path);
    // A symlink at the end (ELOOP): not a file of its own.
    throw e instanceof Deno.errors.FilesystemLoop ? new NotOwnFileError(e.message) : e;
  }
  try {
    return Deno.openSync(openPath(fd)!, { read: true, write: true });
  } finally {
    lib.symbols.close(fd);
  }
}

function openByPath(path: string): Deno.FsFile {
  createIfMissing(path);
  return Deno.openSync(path, { read: true, write: true });
}
