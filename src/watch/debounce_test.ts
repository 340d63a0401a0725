/** Unit tests of the Debouncer: quiet time, the postponement cap, folders held back. */
import assert from "node:assert/strict";
import { Debouncer } from "./debounce.ts";

Deno.test("debounce: a path is due once it has been quiet for quietMs", () => {
  const d = new Debouncer(100, 1000);
  d.add("/s/a", 0);
  assert.equal(d.nextDueAt(), 100);
  assert.deepEqual(d.takeDue(99), []);
  assert.deepEqual(d.takeDue(100), ["/s/a"]);
  assert.equal(d.size, 0);
  assert.equal(d.nextDueAt(), undefined);
});

Deno.test("debounce: each event postpones the path, many events give one path", () => {
  const d = new Debouncer(100, 1000);
  for (let t = 0; t <= 300; t += 50) d.add("/s/a", t);
  assert.equal(d.size, 1);
  assert.deepEqual(d.takeDue(399), []);
  assert.equal(d.nextDueAt(), 400);
  assert.deepEqual(d.takeDue(400), ["/s/a"]);
});

Deno.test("debounce: a path written without pause is due after maxWaitMs", () => {
  const d = new Debouncer(100, 1000);
  for (let t = 0; t <= 990; t += 30) d.add("/s/log", t);
  assert.equal(d.nextDueAt(), 1000);
  assert.deepEqual(d.takeDue(1000), ["/s/log"]);
  d.add("/s/log", 1020); // the next wait starts at the next event
  assert.equal(d.nextDueAt(), 1120);
});

Deno.test("debounce: only the due paths are taken, sorted", () => {
  const d = new Debouncer(100, 1000);
  d.add("/s/c", 0);
  d.add("/s/b", 0);
  d.add("/s/a", 50);
  assert.deepEqual(d.takeDue(120), ["/s/b", "/s/c"]);
  assert.deepEqual(d.takeDue(150), ["/s/a"]);
});

Deno.test("debounce: a folder waits for the pending paths below it", () => {
  const d = new Debouncer(100, 1000);
  d.add("/s/new", 0); // folder created
  d.add("/s/new/big", 10);
  d.add("/s/new/big", 200); // still being written
  d.add("/s/newer", 200); // a sibling with a common prefix is not below it
  assert.deepEqual(d.takeDue(150), []);
  assert.equal(d.nextDueAt(), 300);
  assert.deepEqual(d.takeDue(300), ["/s/new", "/s/new/big", "/s/newer"]);
});

Deno.test("debounce: a folder is not held back beyond its own maxWaitMs", () => {
  const d = new Debouncer(100, 1000);
  d.add("/s/dir", 0);
  for (let t = 500; t <= 1450; t += 50) d.add("/s/dir/sub/file", t);
  assert.deepEqual(d.takeDue(999), []);
  assert.deepEqual(d.takeDue(1000), ["/s/dir"]);
  assert.deepEqual(d.takeDue(1500), ["/s/dir/sub/file"]);
});

Deno.test("debounce: maxWaitMs below quietMs is raised to quietMs; zero quiet is immediate", () => {
  const d = new Debouncer(100, 10);
  assert.equal(d.maxWaitMs, 100);
  const z = new Debouncer(0, 0);
  z.add("/s/a", 5);
  assert.deepEqual(z.takeDue(5), ["/s/a"]);
});

Deno.test("debounce: Windows separators", () => {
  const d = new Debouncer(100, 1000, "\\");
  d.add("C:\\s\\dir", 0);
  d.add("C:\\s\\dir\\f", 150);
  assert.deepEqual(d.takeDue(200), []);
  assert.deepEqual(d.takeDue(250), ["C:\\s\\dir", "C:\\s\\dir\\f"]);
});

Deno.test("debounce: clear forgets everything", () => {
  const d = new Debouncer(100, 1000);
  d.add("/s/a", 0);
  d.clear();
  assert.equal(d.size, 0);
  assert.deepEqual(d.takeDue(10_000), []);
});
