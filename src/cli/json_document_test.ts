import assert from "node:assert/strict";
import { JsonList, JsonStream, writeJsonDocument, writeLines } from "./json_document.ts";
import { Output } from "./stdout.ts";

/** A sink that takes at most `max` bytes a write, as a pipe may. */
function sink(max = Infinity) {
  const chunks: Uint8Array[] = [];
  return {
    writes: 0,
    writeSync(p: Uint8Array): number {
      this.writes++;
      const n = Math.min(p.length, max);
      chunks.push(p.slice(0, n));
      return n;
    },
    text: () => new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c]))),
  };
}

Deno.test("json document: without lists it is JSON.stringify's own, indented by two", () => {
  const doc = { command: "run", ok: true, nothing: undefined, counts: { a: 1 }, errors: [] };
  const out = sink();
  writeJsonDocument(doc, new Output(out));
  assert.equal(out.text(), JSON.stringify(doc, null, 2) + "\n");
});

Deno.test("json document: lists are written a line per element, whole even through short writes", () => {
  const files = new JsonList();
  const expected = [];
  for (let i = 0; i < 5000; i++) {
    const item = { path: `d${i % 7}/fïle "${i}".txt`, version: i, to: `/r/${i}` };
    files.push(item);
    expected.push(item);
  }
  const out = sink(1000);
  writeJsonDocument(
    { command: "restore", restored: files, upToDate: new JsonList() },
    new Output(out),
  );
  const text = out.text();
  assert.deepEqual(JSON.parse(text), { command: "restore", restored: expected, upToDate: [] });
  assert.equal(text.split("\n").length, 5000 + 7, "one line per element");
  assert.match(text, /"upToDate": \[\]\n}\n$/);
});

Deno.test("json document: a stream is written as it is read, and a later field after it", () => {
  let read = 0;
  function* files() {
    for (let i = 0; i < 3000; i++) {
      read++;
      yield { path: `d/${i}.txt`, size: i };
    }
  }
  const out = sink(700);
  writeJsonDocument(
    {
      command: "ls",
      files: new JsonStream(files()),
      count: () => read,
      none: new JsonStream([]),
      nothing: () => undefined,
    },
    new Output(out),
  );
  const doc = JSON.parse(out.text());
  assert.equal(doc.files.length, 3000);
  assert.deepEqual(doc.files[2999], { path: "d/2999.txt", size: 2999 });
  assert.equal(doc.count, 3000, "asked for once the stream before it was read");
  assert.deepEqual(doc.none, []);
  assert.equal(doc.nothing, null);
  assert.equal(out.text().split("\n").length, 3000 + 9, "one line per element");
});

Deno.test("json document: output goes in chunks, not a write per line", () => {
  const out = sink();
  writeLines(Array.from({ length: 20000 }, (_, i) => `SKIP: file ${i}`), new Output(out));
  assert.equal(out.text().split("\n").length, 20001);
  assert.ok(out.writes < 20, `${out.writes} writes`);
});

Deno.test("json document: a reader that went away ends the writing quietly; a full pipe is waited for", () => {
  let calls = 0;
  const gone = {
    writeSync(_: Uint8Array): number {
      calls++;
      throw new Deno.errors.BrokenPipe("Broken pipe (os error 32)");
    },
  };
  writeLines(Array.from({ length: 50000 }, (_, i) => `line ${i}`), new Output(gone));
  assert.equal(calls, 1, "no write after the first refused");
  const full = sink();
  let refusals = 3;
  const busy = {
    writeSync(p: Uint8Array): number {
      if (refusals-- > 0) throw new Deno.errors.WouldBlock("Resource temporarily unavailable");
      return full.writeSync(p);
    },
  };
  writeLines(["a", "b"], new Output(busy));
  assert.equal(full.text(), "a\nb\n");
});

Deno.test("stdout: any other failed write is remembered, never thrown, and nothing more is written", () => {
  let calls = 0;
  const full = {
    writeSync: (): number => {
      calls++;
      throw new Error("No space left on device (os error 28)");
    },
  };
  const out = new Output(full);
  writeLines(Array.from({ length: 50000 }, (_, i) => `line ${i}`), out);
  out.line("and one more");
  assert.equal(calls, 1, "no write after the first failed");
  assert.match(String(out.failure), /No space left on device/);
});

Deno.test("json document: a list kept in several chunks, an element larger than one among them", () => {
  const list = new JsonList(64);
  const expected = [];
  for (let i = 0; i < 300; i++) {
    const item = i === 150
      ? { path: "ü".repeat(500), at: i }
      : { path: `d/fïle ${i}.txt`, "→": "\u{1F600}" };
    list.push(item);
    expected.push(item);
  }
  const out = sink(333);
  writeJsonDocument({ command: "plan", actions: list, ok: true }, new Output(out));
  const text = out.text();
  assert.deepEqual(JSON.parse(text), { command: "plan", actions: expected, ok: true });
  assert.equal(
    text,
    JSON.stringify({ command: "plan", actions: [], ok: true }, null, 2)
      .replace(
        '"actions": []',
        `"actions": [\n${expected.map((e) => `    ${JSON.stringify(e)}`).join(",\n")}\n  ]`,
      ) + "\n",
  );
});
