import assert from "node:assert/strict";
import { inPlaceSources } from "./recorded_sources.ts";

Deno.test("inPlaceSources: each recorded source at its path, in record order", () => {
  const paths = new Map([["docs", "/home/u/docs"], ["pics", "/mnt/pics"]]);
  assert.deepEqual(inPlaceSources(paths, "linux"), {
    sources: [{ name: "docs", path: "/home/u/docs" }, { name: "pics", path: "/mnt/pics" }],
    refused: new Map(),
  });
});

Deno.test("inPlaceSources: a path that names no place here is left out (restored with --to)", () => {
  const paths = new Map([
    ["docs", "C:\\Users\\u\\docs"],
    ["share", "\\\\nas\\photos"],
    ["home", "/home/u"],
  ]);
  const linux = inPlaceSources(paths, "linux");
  assert.deepEqual(linux.sources, [{ name: "home", path: "/home/u" }]);
  assert.deepEqual([...linux.refused.keys()], ["docs", "share"]);
  assert.equal(
    linux.refused.get("docs"),
    "was backed up from 'C:\\Users\\u\\docs', not a full path on this system",
  );
  const windows = inPlaceSources(paths, "windows");
  assert.deepEqual(windows.sources, [
    { name: "docs", path: "C:\\Users\\u\\docs" },
    { name: "share", path: "\\\\nas\\photos" },
  ]);
  assert.deepEqual([...windows.refused.keys()], ["home"]);
});

Deno.test("inPlaceSources: sources recorded at one folder, or one inside the other, are left out (one was left out of the config since)", () => {
  const paths = new Map([
    ["docs", "/home/u/docs"], // renamed in the config to 'documents', same folder
    ["documents", "/home/u/docs"],
    ["home", "/home/u"], // holds both
    ["pics", "/home/u-pics"], // a name that begins alike, not inside
  ]);
  const { sources, refused } = inPlaceSources(paths, "linux");
  assert.deepEqual(sources, [{ name: "pics", path: "/home/u-pics" }]);
  assert.deepEqual([...refused.keys()], ["docs", "documents", "home"]);
  assert.match(
    refused.get("docs")!,
    /^was backed up from '\/home\/u\/docs' and source 'documents' from '\/home\/u\/docs', one folder or one inside the other: one of them was left out of the config since/,
  );
  const win = new Map([["a", "C:\\Data"], ["b", "c:\\data\\sub"], ["c", "D:\\data"]]);
  assert.deepEqual(inPlaceSources(win, "windows").sources, [{ name: "c", path: "D:\\data" }]);
  // macOS: letter case and Unicode form aside (NFD "Mu\u0308sik" is NFC "M\u00fcsik").
  const mac = new Map([
    ["a", "/Users/me/Mu\u0308sik"],
    ["b", "/users/me/m\u00fcsik/Notes"],
    ["c", "/Users/me/Musik"],
  ]);
  assert.deepEqual(inPlaceSources(mac, "darwin").sources, [{ name: "c", path: "/Users/me/Musik" }]);
  assert.equal(inPlaceSources(mac, "linux").sources.length, 3);
});
