/**
 * A Bloom filter over the digests of tracked files: "is this content held by any tracked
 * file?" answered in memory (and a second one, over every stored copy's, versions and
 * deleted files' too, read only where new copies can share disk blocks: `mayBeStored`), so the planner's duplicate check reaches SQLite only for a
 * digest the filter may hold (a real duplicate, or a false positive). Nearly every file of
 * a first backup has content seen nowhere else, and looking its digest up in the state's
 * hash index (whose pages are scattered and rewritten by every batch) took a quarter of a
 * 100,000-file first backup: 25.6-26.3 s with the lookups, 19.1-20.2 s without (measured).
 *
 * It may say "maybe" for a digest no file holds, never "no" for one a file holds: it is
 * filled from every digest in the state, then given every digest the store writes (even
 * in a transaction that is rolled back, which only adds false positives). Digests of
 * files later deleted or changed stay in it, for the same reason harmless. It lives in
 * memory only; nothing is written. `DigestHolders` decides when it pays to read it.
 */

/**
 * Bits per digest at the size the filter is built for: with HASHES_PER_DIGEST positions
 * each, about 1 false "maybe" in 400 lookups. The filter is rebuilt twice as large once it
 * holds twice that many digests (1 in 40 by then).
 */
const BITS_PER_DIGEST = 16;
const HASHES_PER_DIGEST = 4;
/** 2^21 bits (256 KiB): room for 131,072 digests before the first rebuild. */
const MIN_BITS_LOG2 = 21;

export class DigestFilter {
  readonly #bits: Uint32Array;
  readonly #mask: number;
  #count = 0;

  /** An empty filter sized for `expected` digests. */
  constructor(expected: number) {
    let log2 = MIN_BITS_LOG2;
    while (2 ** log2 < expected * BITS_PER_DIGEST) log2++;
    this.#bits = new Uint32Array(2 ** (log2 - 5));
    this.#mask = 2 ** log2 - 1;
  }

  /** Whether so many digests were added that it should be rebuilt larger. */
  get crowded(): boolean {
    return this.#count * BITS_PER_DIGEST > 2 * (this.#mask + 1);
  }

  add(digest: string): void {
    this.#count++;
    this.#probe(digest, (word, bit) => {
      this.#bits[word] |= bit;
      return true;
    });
  }

  /** False only if no added digest equals this one. */
  mayHold(digest: string): boolean {
    return this.#probe(digest, (word, bit) => (this.#bits[word] & bit) !== 0);
  }

  /**
   * Visits the digest's bit positions while `visit` returns true; true if all were visited.
   * Positions come from the digest's own leading hex digits (double hashing): content
   * digests are uniformly distributed already. Digests too short or not hex (never stored
   * by this tool) fall back to a string hash.
   */
  #probe(digest: string, visit: (word: number, bit: number) => boolean): boolean {
    let h1 = parseInt(digest.slice(0, 8), 16);
    let h2 = parseInt(digest.slice(8, 16), 16);
    if (!(digest.length >= 16 && h1 >= 0 && h2 >= 0)) [h1, h2] = stringHashes(digest);
    h2 |= 1;
    for (let i = 0; i < HASHES_PER_DIGEST; i++) {
      const pos = (h1 + i * h2) & this.#mask;
      if (!visit(pos >>> 5, 1 << (pos & 31))) return false;
    }
    return true;
  }
}

/** Two 32-bit FNV-1a hashes of a string, with different offsets. */
function stringHashes(s: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < s.length; i++) {
    a = Math.imul(a ^ s.charCodeAt(i), 0x01000193);
    b = Math.imul(b ^ s.charCodeAt(i), 0x811c9dc5);
  }
  return [a >>> 0, b >>> 0];
}

/** The state's queries `DigestHolders` needs. */
interface DigestQueries {
  /** Tracked paths holding this digest, sorted. */
  query(digest: string, algo: string): string[];
  /** About how many paths are tracked (sizes the filter, and decides when it pays). */
  count(): number;
  /** Up to `limit` tracked files after the path `after`, in path order: [path, digest]. */
  page(after: string, limit: number): [string, string][];
  /**
   * Up to `limit` stored copies (current or kept, with a copy on disk) after the copy id
   * `after`, in id order: [id, digest]. Absent: no filter of stored copies (tests).
   */
  storedPage?(after: number, limit: number): [number, string][];
  /** About how many copies are stored (sizes that filter). */
  storedCount?(): number;
}

/**
 * Digests read into the filter per query: `all()` on pages is about 5x faster than one row
 * at a time with `iterate()` (measured), and a page stays small.
 */
const DIGEST_PAGE_ROWS = 4096;
/**
 * The filter is read once a run has made one lookup per this many tracked files: reading
 * a digest into it costs about 1 µs (in pages), a lookup in the hash index 15 µs or more
 * (60 µs during a large first backup, whose batches keep rewriting the index's pages), so
 * by then the lookups have cost what reading them all does (measured on 100,000 files).
 */
const LOOKUPS_PER_DIGEST_READ = 16;

/** "Which tracked paths hold this digest?": SQLite, unless the filter says none does. */
export class DigestHolders {
  #filter?: DigestFilter;
  /**
   * The digests of every stored copy, kept ones (versions, deleted files') too: read at the
   * first `mayBeStored`, which only a run on a backup root that can share disk blocks asks
   * (share_extents.ts' `mayShareAt`), for each new or changed file's content.
   */
  #stored?: DigestFilter;
  #lookups = 0;
  #filterAfter?: number;

  constructor(readonly db: DigestQueries) {}

  holdersOf(digest: string, algo: string): string[] {
    const filter = this.#current();
    return filter && !filter.mayHold(digest) ? [] : this.db.query(digest, algo);
  }

  /** Called for every digest written to the tracked files (committed or not). */
  added(digest: string): void {
    this.#filter?.add(digest);
    this.#stored?.add(digest);
  }

  /**
   * False only if no stored copy (current, a version, a deleted file's) has this digest: a
   * copy is stored only with a digest written to the tracked files (`added`), and archiving
   * keeps it. Read in pages by copy id at the first call; false without `storedPage`.
   */
  mayBeStored(digest: string): boolean {
    const page = this.db.storedPage;
    if (!page) return false;
    if (!this.#stored || this.#stored.crowded) {
      const filter = new DigestFilter(2 * (this.db.storedCount?.() ?? 0));
      for (let after = 0;;) {
        const rows = page(after, DIGEST_PAGE_ROWS);
        for (const [, d] of rows) filter.add(d);
        if (rows.length < DIGEST_PAGE_ROWS) break;
        after = rows[rows.length - 1][0];
      }
      this.#stored = filter;
    }
    return this.#stored.mayHold(digest);
  }

  /**
   * The filter, once it pays: at once when nothing is tracked (a first backup), otherwise
   * after LOOKUPS_PER_DIGEST_READ; read again, larger, when crowded.
   */
  #current(): DigestFilter | undefined {
    if (this.#filter && !this.#filter.crowded) return this.#filter;
    if (!this.#filter) {
      this.#filterAfter ??= this.db.count() / LOOKUPS_PER_DIGEST_READ;
      if (this.#lookups++ < this.#filterAfter) return undefined;
    }
    this.#filter = this.#read();
    return this.#filter;
  }

  /** A filter of every tracked digest, read in path order a page at a time. */
  #read(): DigestFilter {
    const filter = new DigestFilter(2 * this.db.count());
    for (let after = "";;) {
      const rows = this.db.page(after, DIGEST_PAGE_ROWS);
      for (const [, digest] of rows) filter.add(digest);
      if (rows.length < DIGEST_PAGE_ROWS) return filter;
      after = rows[rows.length - 1][0];
    }
  }
}
