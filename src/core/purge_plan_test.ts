import assert from "node:assert/strict";
import { decidePurge, type PurgeCopy, type PurgeRules } from "./purge_plan.ts";

const copy = (
  path: string,
  seq: number,
  location: string,
  storedAt: string | null,
): PurgeCopy => ({
  id: seq * 100 + path.length,
  path,
  seq,
  kind: "file",
  location,
  storedAt,
  size: 10 * seq,
  mtimeMs: 1000 + seq,
  hash: `h${seq}`,
  algo: "sha256",
});

const rules = (excluded: string[] = [], sources = ["s"]): PurgeRules => ({
  sources: new Set(sources),
  excluded: (path) => excluded.some((p) => path === p || path.startsWith(`${p}/`)),
});

Deno.test("purge deletes every stored copy of an excluded file, its current one too", () => {
  const copies = [
    copy("s/.env", 3, "latest", ".env"),
    copy("s/.env", 1, "version", "versions/.env/v1.bak"),
    copy("s/.env", 2, "pruned", null),
    copy("s/.env", 4, "lost", null),
  ];
  const d = decidePurge(copies, [{ path: "s/.env", status: "excluded" }], rules(["s/.env"]));
  assert.ok("items" in d);
  assert.deepEqual(d.items.map((i) => i.action.storedAt), ["versions/.env/v1.bak", ".env"]);
  assert.deepEqual(d.items[1].action, {
    type: "prune",
    path: "s/.env",
    copyId: copies[0].id,
    seq: 3,
    storedAt: ".env",
    recorded: { size: 30, mtimeMs: 1003, hash: "h3", algo: "sha256" },
    purge: true,
  });
  assert.equal(d.bytes, 40);
  // The records of the contents whose copy went before: marked purged, by content number.
  assert.deepEqual(d.records, [
    { id: copies[2].id, path: "s/.env", seq: 2, location: "pruned" },
    { id: copies[3].id, path: "s/.env", seq: 4, location: "lost" },
  ]);
});

Deno.test("purge takes a file excluded by the config now, before a run has marked it", () => {
  const d = decidePurge(
    [copy("s/vm.img", 1, "latest", "vm.img")],
    [{ path: "s/vm.img", status: "current" }],
    rules(["s/vm.img"]),
  );
  assert.ok("items" in d && d.items.length === 1);
});

Deno.test("purge of a deleted file's copies needs no exclude: it is tracked no more", () => {
  const d = decidePurge(
    [copy("s/old.txt", 1, "deleted", "_deleted/old.txt"), copy("s/old.txt", 2, "deleted", null)],
    [],
    rules(),
  );
  assert.ok("items" in d);
  assert.deepEqual(d.items.map((i) => i.action.storedAt), ["_deleted/old.txt"]);
});

Deno.test("a folder with one file still backed up refuses the whole purge", () => {
  const d = decidePurge(
    [copy("s/d/a.txt", 1, "latest", "d/a.txt"), copy("s/d/b.txt", 1, "deleted", "_deleted/d/b")],
    [{ path: "s/d/a.txt", status: "current" }],
    rules(),
  );
  assert.ok("refused" in d);
  assert.deepEqual(d.refused.map((r) => r.path), ["s/d/a.txt"]);
  assert.match(d.refused[0].reason, /add it to exclude, or delete it from the source/);
});

Deno.test("a file marked excluded whose pattern was removed since is refused", () => {
  const d = decidePurge([], [{ path: "s/x", status: "excluded" }], rules());
  assert.ok("refused" in d);
  assert.match(d.refused[0].reason, /nothing in the config leaves it out any more/);
});

Deno.test("a file of a source this config does not name is refused, excluded or not", () => {
  const d = decidePurge([], [{ path: "t/x", status: "excluded" }], rules(["t/x"]));
  assert.ok("refused" in d);
  assert.match(d.refused[0].reason, /source 't', which this config does not name/);
  // A source dropped from the only config: the way to purge it all the same.
  assert.match(
    d.refused[0].reason,
    /: purge it with that config, or, if none names it any more, add \{ "path": "<an empty folder>", "name": "t" \} to this config's sources, run with --force, then purge$/,
  );
});
