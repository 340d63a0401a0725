import assert from "node:assert/strict";
import { createProgress, etaMs, formatDuration, progressLine, shorten } from "./progress.ts";
import type { Progress } from "../engine/pass_types.ts";
import { createStyle } from "./style.ts";

const state = (over: Partial<Progress> = {}): Progress => ({
  filesDone: 50,
  filesTotal: 200,
  bytesDone: 256 << 20,
  bytesTotal: 1024 << 20,
  current: "photos/2024/img_0001.jpg",
  ...over,
});

/** A reporter on a fake clock and terminal; returns what it wrote. */
function fake(columns = 120) {
  const out: string[] = [];
  let t = 0;
  const progress = createProgress({
    label: "Backing up",
    enabled: true,
    write: (s) => out.push(s),
    now: () => t,
    columns: () => columns,
    style: createStyle(false),
  });
  return { out, progress, advance: (ms: number) => (t += ms) };
}

Deno.test("progress line: files, bytes, rate, ETA and the current file", () => {
  const line = progressLine("Backing up", state(), 4000, 200);
  assert.equal(
    line,
    "Backing up  50/200 files  256.0 MiB/1.0 GiB  64.0 MiB/s  ETA 0:12  photos/2024/img_0001.jpg",
  );
});

Deno.test("progress line: no rate or ETA during the first second; files/s without bytes", () => {
  assert.equal(
    progressLine("Plan", state(), 500, 200),
    "Plan  50/200 files  256.0 MiB/1.0 GiB  photos/2024/img_0001.jpg",
  );
  const noBytes = state({ bytesDone: 0, bytesTotal: 0, current: "a" });
  assert.equal(
    progressLine("Plan", noBytes, 10_000, 200),
    "Plan  50/200 files  5 files/s  ETA 0:30  a",
  );
});

Deno.test("progress line: fits the width, keeping the end of the path", () => {
  const long = state({ current: "very/deep/folder/structure/with/a/long/file-name.txt" });
  const line = progressLine("Backing up", long, 4000, 100);
  assert.equal(line.length, 100);
  assert.ok(line.endsWith("…ucture/with/a/long/file-name.txt"), line);
  assert.equal(progressLine("Backing up", long, 4000, 20).length, 20);
  assert.equal(shorten("abcdef", 4), "…def");
  assert.equal(shorten("abc", 4), "abc");
});

Deno.test("progress line: control characters in a name cannot break the line", () => {
  const line = progressLine("x", state({ current: "a\nb\rc\x1b[31m" }), 0, 200);
  assert.ok(line.endsWith("a?b?c?[31m"), line);
});

Deno.test("ETA and durations", () => {
  assert.equal(etaMs(state({ bytesDone: 0 }), 1000), undefined);
  assert.equal(etaMs(state(), 3000), 9000);
  assert.equal(formatDuration(59_400), "0:59");
  assert.equal(formatDuration(61_000), "1:01");
  assert.equal(formatDuration(3_723_000), "1:02:03");
});

Deno.test("reporter: redraws at most every 100 ms, always the last file, pads shorter lines", () => {
  const { out, progress, advance } = fake();
  progress.update(state({ filesDone: 1, current: "a-long-file-name.txt" }));
  progress.update(state({ filesDone: 2 }));
  assert.equal(out.length, 1);
  advance(100);
  progress.update(state({ filesDone: 3, current: "b" }));
  assert.equal(out.length, 2);
  assert.ok(out[1].startsWith("\rBacking up  3/200 files"));
  assert.equal(out[1].length, out[0].length, "the shorter line is padded over the longer one");
  progress.update(state({ filesDone: 200 }));
  assert.equal(out.length, 3, "the final state is always drawn");
  progress.done();
  assert.match(out[3], /^\r +\r$/);
  progress.done();
  assert.equal(out.length, 4, "done twice erases once");
});

Deno.test("reporter: disabled writes nothing; lines never exceed the terminal width", () => {
  const off = createProgress({ label: "x", enabled: false, write: () => assert.fail("wrote") });
  off.update(state());
  off.done();
  const { out, progress } = fake(40);
  progress.update(state());
  assert.equal(out[0].length, 1 + 39);
});

Deno.test("style: identity when disabled, SGR codes when enabled", () => {
  assert.equal(createStyle(false).red("x"), "x");
  assert.equal(createStyle(true).red("x"), "\x1b[31mx\x1b[39m");
  assert.equal(createStyle(true).bold(""), "");
});
