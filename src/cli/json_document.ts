/**
 * A `--json` document (or a plan's lines) written to stdout a piece at a time, so that one
 * listing a file per element (a plan's actions, a restore's files) never exists as one
 * string. Long lists are kept as `JsonList`s, each element serialized when added (a line of
 * compact JSON, about a third of the object it replaces); everything else is formatted as
 * `JSON.stringify(v, null, 2)` would. A list read as it is written (`ls`: a file at a time)
 * is a `JsonStream`, never held at all, and what is known only once it is read to its end
 * (its count) a function, called in its turn. Lines made as the work goes (a plan's, as
 * it plans) are written as they come by a `LineWriter`. Written through stdout.ts: a
 * failed write never stops the command.
 */

import { type Output, stdout } from "./stdout.ts";

/** A list whose elements are kept as their JSON text, one line each in the document. */
export class JsonList {
  readonly #items: string[] = [];

  push(item: unknown): void {
    this.#items.push(JSON.stringify(item));
  }

  get length(): number {
    return this.#items.length;
  }

  *lines(indent: string): Iterable<string> {
    for (let i = 0; i < this.#items.length; i++) {
      yield `${indent}${this.#items[i]}${i < this.#items.length - 1 ? "," : ""}\n`;
    }
  }
}

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
      for (const line of value.lines("    ")) writer.put(line);
      writer.put("  ]");
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

  flush(): void {
    this.out.write(this.#encoder.encode(this.#parts.join("")));
    this.#parts = [];
    this.#chars = 0;
  }
}
