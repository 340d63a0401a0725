/**
 * `whileRead`: `ls` reads the state only while someone reads its listing. An Output whose
 * reader went away (a pipe closed: BrokenPipe) ends the files at once; one that writes ends
 * none. In memory: the files are a generator that counts what was asked of it.
 */
import assert from "node:assert/strict";
import { whileRead } from "./ls.ts";
import { Output } from "./stdout.ts";

/** A million files, counting those taken. */
function counted(): { files: Generator<number>; taken: () => number } {
  let n = 0;
  function* files() {
    while (n < 1_000_000) yield n++;
  }
  return { files: files(), taken: () => n };
}

Deno.test("whileRead: the files end once the reader of standard output is gone", () => {
  const out = new Output({
    writeSync: () => {
      throw new Deno.errors.BrokenPipe("Broken pipe (os error 32)");
    },
  });
  const { files, taken } = counted();
  let shown = 0;
  for (const _ of whileRead(files, out)) {
    if (++shown === 3) out.line("a line"); // the reader has gone by now
  }
  assert.equal(shown, 3);
  assert.ok(taken() <= 4, `${taken()} files read`);
});

Deno.test("whileRead: every file while the reader reads", () => {
  const out = new Output({ writeSync: (p) => p.length });
  const { files, taken } = counted();
  let shown = 0;
  for (const _ of whileRead(files, out)) if (++shown % 1000 === 0) out.line("a line");
  assert.equal(shown, 1_000_000);
  assert.equal(taken(), 1_000_000);
});
