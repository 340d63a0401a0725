/**
 * A `--json` document (or a plan's lines) written to stdout a piece at a time, so that one
 * listing a file per element (a plan's actions, a restore's files) never exists as one
 * string. Long lists are kept as `JsonList`s, each element serialized when added (a line of
 * compact JSON, about a third of the object it replaces, kept as UTF-8 off the JavaScript
 * heap); everything else is formatted as `JSON.stringify(v, null, 2)` would. A list read as
 * it is written (`ls`: a file at a time) is a `JsonStream`, never held at all, and what is
 * known only once it is read to its end (its count) a function, called in its turn. Lines
 * made as the work goes (a plan's, as it plans) are written as they come by a `LineWriter`.
 * Written through stdout.ts: a failed write never stops the command.
 */

import { type Output, stdout } from "./stdout.ts";

/**
 * A list whose elements are kept as their JSON text, one line each in the document: UTF-8
 * in chunks of LIST_CHUNK_BYTES, each line with what goes before it (a comma and the
 * indent), out of the JavaScript heap. A string an element, a plan of 200,000 new files
 * held 35 MiB of them on the heap, and the garbage collector let it grow as much again.
 */
export class JsonList {
  readonly #chunks: Uint8Array[] = [];
  #chunk: Uint8Array;
  #used = 0;
  #length = 0;
  readonly #encoder = new TextEncoder();

  /** `chunkBytes`: for tests. */
  constructor(readonly chunkBytes = LIST_CHUNK_BYTES) {
    this.#chunk = new Uint8Array(0);
  }

  push(item: unknown): void {
    const text = `${this.#length > 0 ? ",\n" : ""}${LIST_INDENT}${JSON.stringify(item)}`;
    let done = this.#encoder.encodeInto(text, this.#chunk.subarray(this.#used));
    if (done.read < text.length) {
      // It does not fit: this chunk ends before it, and the next one starts with it.
      if (this.#used > 0) this.#chunks.push(this.#chunk.subarray(0, this.#used));
      this.#chunk = new Uint8Array(Math.max(this.chunkBytes, text.length * 3));
      this.#used = 0;
      done = this.#encoder.encodeInto(text, this.#chunk);
    }
    this.#used += done.written;
    this.#length++;
  }

  get length(): number {
    return this.#length;
  }

  /** The elements' lines, as written: `LIST_INDENT` before each, commas between, no newline last. */
  *bytes(): Iterable<Uint8Array> {
    yield* this.#chunks;
    if (this.#used > 0) yield this.#chunk.subarray(0, this.#used);
  }
}

/** The indent of a list's elements: a list is a field of the document. */
const LIST_INDENT = "    ";
/** A list's chunks: a few bytes at most left unused in each (the start of the next line). */
const LIST_CHUNK_BYTES = 1 << 20;

/** A list written an element at a time as `items` gives them, none kept (one line each). */
export class JsonStream {
  constructor(readonly items: Iterable<unknown>) {}
}

/**
 * Text gathered up to 64 KiB before each write: a write per line would cost a system call
 * each (a million for a million-file plan), one string of everything the memory this saves.
 */
const CHUNK_CHARS = 64 * 1024;

/**
 * Writes `doc` (keys with an undefined value left out, as JSON.stringify does) and a newline.
 * A function's value is its result, asked for once the keys before it are written (null for
 * undefined: by then its key is written).
 */
export function writeJsonDocument(
  doc: Record<string, unknown>,
  out: Output = stdout,
): void {
  const writer = new ChunkWriter(out);
  const keys = Object.keys(doc).filter((k) => doc[k] !== undefined);
  writer.put("{\n");
  keys.forEach((key, i) => {
    const given = doc[key];
    const value = typeof given === "function" ? given() ?? null : given;
    writer.put(`  ${JSON.stringify(key)}: `);
    if (value instanceof JsonStream) {
      let first = true;
      for (const item of value.items) {
        writer.put(`${first ? "[\n" : ",\n"}    ${JSON.stringify(item)}`);
        first = false;
      }
      writer.put(first ? "[]" : "\n  ]");
    } else if (value instanceof JsonList && value.length > 0) {
      writer.put("[\n");
      for (const bytes of value.bytes()) writer.putBytes(bytes);
      writer.put("\n  ]");
    } else if (value instanceof JsonList) {
      writer.put("[]");
    } else {
      writer.put(JSON.stringify(value, null, 2).replaceAll("\n", "\n  "));
    }
    writer.put(i < keys.length - 1 ? ",\n" : "\n");
  });
  writer.put("}\n");
  writer.flush();
}

/** Writes each line and a newline after it, as `console.log` of each would. */
export function writeLines(
  lines: Iterable<string>,
  out: Output = stdout,
): void {
  const writer = new LineWriter(out);
  for (const line of lines) writer.line(line);
  writer.end();
}

/**
 * Lines written as they come (`plan`'s, as it plans them), none kept but the chunk not yet
 * written: `end` writes it.
 */
export class LineWriter {
  readonly #writer: ChunkWriter;

  constructor(out: Output = stdout) {
    this.#writer = new ChunkWriter(out);
  }

  line(text: string): void {
    this.#writer.put(`${text}\n`);
  }

  end(): void {
    this.#writer.flush();
  }
}

class ChunkWriter {
  #parts: string[] = [];
  #chars = 0;
  readonly #encoder = new TextEncoder();

  constructor(readonly out: Output) {}

  put(text: string): void {
    this.#parts.push(text);
    this.#chars += text.length;
    if (this.#chars >= CHUNK_CHARS) this.flush();
  }

  /** Bytes as they are, after the text put before them. */
  putBytes(bytes: Uint8Array): void {
    this.flush();
    this.out.write(bytes);
  }

  flush(): void {
    if (this.#parts.length === 0) return;
    this.out.write(this.#encoder.encode(this.#parts.join("")));
    this.#parts = [];
    this.#chars = 0;
  }
}
