/**
 * Whether the config a watch session uses was edited since it was read: the config file and
 * the files of exclude patterns it lists (`exclude_from`), by their bytes, looked at every
 * IDLE_LOOKS × CONFIG_CHECK_MS, and every CONFIG_CHECK_MS while they change (a stat and a
 * read each: a config is a few hundred bytes, a file of exclude patterns a few KiB; by their
 * stat alone, two saves within a millisecond at the same size would look as one).
 * An edit is handed on (`look`) once the files have stayed the same for one look (an
 * editor's save, or several files saved one after the other, is one edit), and only where it
 * differs from the last one handed on: the session then reloads the config (config_reload.ts)
 * from the bytes that look read (`handedBytes`), not from the disk again, where a save begun
 * since (an editor truncating a file, then writing it) could show an empty or partial file;
 * and, where that applies it, says which files it now reads (`inUse`). A file the edit names
 * anew was not looked at: the load read it from the disk, so it is looked at from now on and
 * the edit waits until it is seen settled too (`unsettled`). What the config in use was read
 * from is the very bytes its load parsed (`loadWatched`), so that a save landing after the
 * load (while the session opens, its recovery may take a while) is an edit, not taken for
 * the config in use. Memory and one timer, which `close()` clears: an interruption leaves
 * nothing.
 */
import { resolve } from "node:path";
import { type Config, loadConfig } from "../config/config.ts";
import type { FileBytes } from "../config/config_text.ts";
import { MAX_EXCLUDE_FILE_BYTES } from "../config/exclude_from.ts";
import { errorText, isHeldByAnother, isOutOfOpenFiles } from "../engine/errors.ts";

/**
 * Two seconds between two looks once a look has seen the files other than the edit last
 * handed on (an edit being made, or not handed on yet): the next, which sees them the
 * same, hands it on.
 */
export const CONFIG_CHECK_MS = 2_000;

/**
 * While the files stay as handed on, a look every third CONFIG_CHECK_MS (6 s): an edit is
 * applied within about two to eight seconds of its save. A look (a stat and a read of each
 * file, the code around them, a wake-up of the process) costs a few hundred microseconds in
 * an idle session: every 2 s, 3–7 ms of CPU in 30 s; every 6 s, 1–4 ms
 * (docs/performance-history.md, Forty-fourth session).
 */
export const IDLE_LOOKS = 3;

/**
 * What a look found of a file: its bytes, undefined where it is gone, or a text saying why it
 * has none (UNKNOWN, not a file, cannot be read).
 */
type Print = Uint8Array | string | undefined;

/** A fingerprint that tells nothing: the file could not be looked at just now. */
const UNKNOWN = "\0unknown";

/** Handed on as no look is: a file whose load is to wait until it is seen settled. */
const NOT_SEEN = "\0not seen settled";

/** A file that is not a regular one (a pipe the config came through: it is read once). */
const NOT_A_FILE = "not a file";

export class ConfigFiles {
  readonly file: string;
  /** The files looked at: the config, then the exclude_from files of the config in use. */
  #files: string[];
  /** The files' fingerprints when the config in use was read. */
  #inUse: Print[];
  /** At the last edit handed on (the config in use's, until one is). */
  #handed: Print[];
  /** At the last look, to tell that an edit has settled. */
  #last: Print[];
  #timer: ReturnType<typeof setTimeout> | undefined;

  readonly os: typeof Deno.build.os;

  /**
   * The files of the config in use: what `loaded` holds of them (the bytes its load parsed,
   * by path: `loadWatched`), else looked at now. `os`: the system whose errors are read
   * (tests give Windows').
   */
  constructor(
    file: string,
    excludeFrom: readonly string[],
    opts: { loaded?: ReadonlyMap<string, Uint8Array>; os?: typeof Deno.build.os } = {},
  ) {
    this.file = file;
    this.os = opts.os ?? Deno.build.os;
    this.#files = [file, ...excludeFrom];
    this.#inUse = this.#handed = this.#last = this.#files.map((f) =>
      opts.loaded?.get(f) ?? this.#fingerprint(f)
    );
  }

  /**
   * Calls `onLook` from now on (it looks: `look`), `everyMs` after the one before where
   * the files were then other than as handed on, else IDLE_LOOKS times that.
   */
  start(onLook: () => void, everyMs = CONFIG_CHECK_MS): void {
    const next = () => {
      this.#timer = setTimeout(() => {
        onLook();
        if (this.#timer !== undefined) next(); // unless closed meanwhile
      }, this.nextLookMs(everyMs));
    };
    next();
  }

  /** How long after the last look the next is made (`start`). */
  nextLookMs(everyMs = CONFIG_CHECK_MS): number {
    return this.asHanded ? everyMs * IDLE_LOOKS : everyMs;
  }

  /**
   * One look: true where the files hold an edit, the same as at the look before (settled),
   * not handed on yet; it is handed on by this.
   */
  look(): boolean {
    const now = this.#look();
    const settled = same(now, this.#last);
    this.#last = now;
    if (!settled || now.includes(UNKNOWN) || same(now, this.#handed)) return false;
    if (this.#inUse.includes(UNKNOWN)) { // not looked at, at the start: stands for it
      this.#inUse = this.#handed = now;
      return false;
    }
    this.#handed = now;
    return true;
  }

  /**
   * Whether the files held at the last look what they held when the last edit was handed
   * on: nothing edited since, nor being edited.
   */
  get asHanded(): boolean {
    return same(this.#last, this.#handed);
  }

  /** Whether the files hold again what the config in use was read from (an edit undone). */
  get asInUse(): boolean {
    return same(this.#handed, this.#inUse);
  }

  /**
   * The config read from the files as they were when the last edit was handed on is in use
   * now, listing `excludeFrom`: those files are looked at from now on. One it did not list
   * before is taken as read now (an edit of it between the load and this look waits for
   * its next one).
   */
  inUse(excludeFrom: readonly string[]): void {
    const before = new Map(this.#files.map((f, i) => [f, this.#handed[i]]));
    this.#files = [this.file, ...excludeFrom];
    const now = this.#look();
    this.#inUse = this.#handed = this.#files.map((f, i) => before.has(f) ? before.get(f) : now[i]);
    this.#last = now;
  }

  /**
   * The files' bytes as they were when the last edit was handed on (loadConfig's `read`): a
   * file that look found gone throws NotFound; one it did not look at, or could not read, is
   * read from the disk by the loader, and named in `unseen` (see `unsettled`).
   */
  handedBytes(): { read: FileBytes; unseen: Set<string> } {
    const unseen = new Set<string>();
    const read = (file: string) => {
      const i = this.#files.indexOf(resolve(file));
      const print = i < 0 ? NOT_SEEN : this.#handed[i];
      if (print instanceof Uint8Array) return print;
      if (print === undefined) throw new Deno.errors.NotFound(`'${file}' was gone at the look`);
      if (print !== NOT_A_FILE) unseen.add(resolve(file)); // the loader says why, or reads it
      return undefined;
    };
    return { read, unseen };
  }

  /**
   * After a load with `handedBytes`: whether it read from the disk a file not seen settled,
   * so that it is not to be judged. A file not looked at (one the edit names anew) is looked
   * at from now on, whether the load read it or not; one seen unreadable that loaded all the
   * same (`loaded`: readable since) is seen again. Either is then handed on once settled.
   */
  unsettled(unseen: ReadonlySet<string>, loaded: boolean): boolean {
    let wait = false;
    for (const file of unseen) {
      const i = this.#files.indexOf(file);
      if (i >= 0 && !loaded) continue; // the loader's words on it stand
      if (i < 0) {
        this.#files = [...this.#files, file];
        this.#last = [...this.#last, this.#fingerprint(file)];
        this.#handed = [...this.#handed, NOT_SEEN];
      } else this.#handed = this.#handed.map((p, j) => j === i ? NOT_SEEN : p);
      wait = true;
    }
    return wait;
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #look(): Print[] {
    return this.#files.map((f) => this.#fingerprint(f));
  }

  /**
   * The file's bytes (or that it is gone): a save that changes nothing (`touch`, an editor
   * saving again) is no change.
   */
  #fingerprint(file: string): Print {
    try {
      const info = Deno.statSync(file);
      // A pipe the config came through (`--config <(…)`) is read once, at the start.
      if (!info.isFile) return NOT_A_FILE;
      return Deno.readFileSync(file);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
        return undefined;
      }
      // The process out of open files (a low limit, a moment's peak), or the file held by
      // another program (Windows: an editor saving it), tells nothing of the file: looked
      // at again at the next look. It was no change, and not "gone".
      const text = errorText(e);
      if (isOutOfOpenFiles(text) || isHeldByAnother(text, this.os)) return UNKNOWN;
      return `cannot be read: ${text}`; // the reload says why (the loader's words)
    }
  }
}

/**
 * Loads the config a watch begins with (loadConfig), and its files as that load read them:
 * the config in use is what it parsed, whatever is saved after.
 */
export function loadWatched(file: string): { config: Config; files: ConfigFiles } {
  const loaded = new Map<string, Uint8Array>();
  const read: FileBytes = (f) => {
    const path = resolve(f);
    const bytes = loaded.get(path) ?? regularBytes(path); // a file listed twice: read once
    if (bytes !== undefined) loaded.set(path, bytes);
    return bytes;
  };
  const config = loadConfig(file, { read });
  return { config, files: new ConfigFiles(config.file, config.excludeFrom, { loaded }) };
}

/**
 * A regular file's bytes; undefined for any other, one larger than a config or a file of
 * exclude patterns may be, or one that cannot be read: the loader reads it itself (a pipe)
 * or says why not, and it is looked at as the watch begins.
 */
function regularBytes(file: string): Uint8Array | undefined {
  try {
    const info = Deno.statSync(file);
    return info.isFile && info.size <= MAX_EXCLUDE_FILE_BYTES ? Deno.readFileSync(file) : undefined;
  } catch {
    return undefined;
  }
}

function same(a: readonly Print[], b: readonly Print[]): boolean {
  return a.length === b.length && a.every((print, i) => samePrint(print, b[i]));
}

function samePrint(a: Print, b: Print): boolean {
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array)) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
