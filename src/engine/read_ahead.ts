/**
 * Reading held entries ahead on a second core. The first walk holds the new and changed
 * entries it finds until the deletions are planned (walks.ts); where the walk worker
 * walked with it (a split walk), that worker is idle by then, so it reads, hashes and
 * stages them, a group of entries per request and a few groups ahead, while this thread
 * plans the ones before them in order (and so for each segment of the second walk).
 * Planning stays in walk order and decides as if it had read each entry itself
 * (entries.ts); only the reads move. (1,000 changed files out of 100,000: the main thread
 * read them for about 80 ms.)
 *
 * An entry whose size and mtime are as recorded most likely has its old content: it is
 * only hashed (no temporary name is given), and copied by the planning thread should its
 * digest differ after all. Stopped or failed midway, it leaves at most staged temporary
 * copies, which the next run removes.
 */
import type { ReadRequest, StagedEntry, StagingWalk } from "./scan/staging.ts";
import type { Fingerprint, ScanEntry } from "../core/types.ts";

/** Entries per request: one message each way for this many files. */
const GROUP_ENTRIES = 64;
/** Bytes per request at most, so one large file is planned (and flushed) as soon as read. */
const GROUP_BYTES = 16 << 20;
/**
 * Entries and bytes read ahead of the planning at most: enough to keep the worker busy
 * while a group is planned, and a bound on the staged copies not yet in a batch.
 */
const AHEAD_ENTRIES = 512;
const AHEAD_BYTES = 128 << 20;

/** An entry a walk held, with the fingerprint the state has for it. */
export interface Held {
  entry: ScanEntry;
  known?: Fingerprint;
}

/** A held entry as the worker found it; `tmp`: the name it was asked to stage it as. */
export interface ReadAheadResult {
  held: Held;
  tmp?: string;
  staged: StagedEntry;
}

interface Asked {
  group: Held[];
  tmps: (string | undefined)[];
  bytes: number;
}

export class ReadAhead {
  #next = 0;
  #asked: Asked[] = [];
  #aheadEntries = 0;
  #aheadBytes = 0;

  /** Sends the first requests at once: the worker reads while the deletions are planned. */
  constructor(
    readonly reader: StagingWalk,
    readonly algo: string,
    readonly held: Held[],
    /** The temporary name to stage an entry as; undefined: hash it only. */
    readonly tmpFor: (held: Held) => string | undefined,
    /** exclude_larger_than: a file grown over it since the walk is left out, not read. */
    readonly limit?: number | null,
  ) {
    this.#ask();
  }

  /** The results, a group at a time, in the order held; none more once `signal` is aborted. */
  async *groups(signal?: AbortSignal): AsyncGenerator<ReadAheadResult[]> {
    while (this.#asked.length > 0) {
      const results = await this.reader.nextRead(signal);
      if (results === undefined) return;
      const { group, tmps, bytes } = this.#asked.shift()!;
      this.#aheadEntries -= group.length;
      this.#aheadBytes -= bytes;
      this.#ask(); // the worker reads on while this group is planned
      yield group.map((held, i) => ({ held, tmp: tmps[i], staged: results[i] }));
    }
  }

  #ask(): void {
    const held = this.held;
    while (
      this.#next < held.length && this.#aheadEntries < AHEAD_ENTRIES &&
      this.#aheadBytes < AHEAD_BYTES
    ) {
      const group: Held[] = [];
      let bytes = 0;
      while (this.#next < held.length && group.length < GROUP_ENTRIES && bytes < GROUP_BYTES) {
        const h = held[this.#next++];
        group.push(h);
        bytes += h.entry.size;
      }
      const tmps = group.map(this.tmpFor);
      const limit = this.limit;
      const items: ReadRequest[] = group.map((h, i) => ({ entry: h.entry, tmp: tmps[i], limit }));
      this.reader.read(this.algo, items);
      this.#asked.push({ group, tmps, bytes });
      this.#aheadEntries += group.length;
      this.#aheadBytes += bytes;
    }
  }
}
