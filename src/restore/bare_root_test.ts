import assert from "node:assert/strict";
import { recordedSources } from "./bare_root.ts";

Deno.test("recordedSources: each recorded source at its path, in record order", () => {
  const paths = new Map([["docs", "/home/u/docs"], ["pics", "/mnt/pics"]]);
  assert.deepEqual(recordedSources(paths, "linux"), [
    { name: "docs", path: "/home/u/docs" },
    { name: "pics", path: "/mnt/pics" },
  ]);
});

Deno.test("recordedSources: a path that names no place here is left out (restored with --to)", () => {
  const paths = new Map([
    ["docs", "C:\\Users\\u\\docs"],
    ["share", "\\\\nas\\photos"],
    ["home", "/home/u"],
  ]);
  assert.deepEqual(recordedSources(paths, "linux"), [{ name: "home", path: "/home/u" }]);
  assert.deepEqual(recordedSources(paths, "windows"), [
    { name: "docs", path: "C:\\Users\\u\\docs" },
    { name: "share", path: "\\\\nas\\photos" },
  ]);
});
