import assert from "node:assert/strict";
import { JsonList, writeJsonDocument, writeLines } from "./json_document.ts";

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
  writeJsonDocument(doc, out);
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
  writeJsonDocument({ command: "restore", restored: files, upToDate: new JsonList() }, out);
  const text = out.text();
  assert.deepEqual(JSON.parse(text), { command: "restore", restored: expected, upToDate: [] });
  assert.equal(text.split("\n").length, 5000 + 7, "one line per element");
  assert.match(text, /"upToDate": \[\]\n}\n$/);
});

Deno.test("json document: output goes in chunks, not a write per line", () => {
  const out = sink();
  writeLines(Array.from({ length: 20000 }, (_, i) => `SKIP: file ${i}`), out);
  assert.equal(out.text().split("\n").length, 20001);
  assert.ok(out.writes < 20, `${out.writes} writes`);
});
