import assert from "node:assert/strict";
import { planCoverage, replanTest } from "./coverage.ts";

/**
 * A tree of folders as data: each folder's subfolders (a name ending in `@` is a symlink
 * to a folder), or an error for an unreadable one.
 */
function lister(tree: Record<string, string[] | "denied" | "gone">) {
  return (dir: string) => {
    const children = tree[dir] ?? [];
    if (children === "denied") return new Error("Permission denied (os error 13)");
    if (children === "gone") return new Deno.errors.NotFound("No such file or directory");
    const paths = (links: boolean) =>
      children.filter((c) => c.endsWith("@") === links).map((c) => `${dir}/${c.replace("@", "")}`);
    return { folders: paths(false), linked: paths(true) };
  };
}

Deno.test("coverage: a source with nothing unreadable is followed whole", () => {
  const plan = planCoverage(["/s"], lister({ "/s": ["a", "b"], "/s/a": ["x"] }));
  assert.deepEqual(plan, { recursive: ["/s"], flat: [], unreadable: [], linked: [] });
});

Deno.test("coverage: a symlink to a folder is gone around: its folder followed flat, its siblings whole", () => {
  // Deno.watchFs follows every symlink to a folder below a folder it follows recursively.
  const plan = planCoverage(
    ["/s"],
    lister({ "/s": ["a", "b"], "/s/a": ["z@", "open"], "/s/a/open": ["deep"], "/s/b": ["x"] }),
  );
  assert.deepEqual(plan.linked, ["/s/a/z"]);
  assert.deepEqual(plan.unreadable, []);
  assert.deepEqual(plan.flat.sort(), ["/s", "/s/a"]);
  assert.deepEqual(plan.recursive.sort(), ["/s/a/open", "/s/b"]);
});

Deno.test("coverage: a folder left out (the backup root) is not followed, the way to it flat", () => {
  const plan = planCoverage(
    ["/s"],
    lister({ "/s": ["a", "b"], "/s/a": ["backup", "c"], "/s/a/backup": ["x"], "/s/b": ["y"] }),
    new Set(["/s/a/backup"]),
  );
  assert.deepEqual(plan.flat.sort(), ["/s", "/s/a"]);
  assert.deepEqual(plan.recursive.sort(), ["/s/a/c", "/s/b"]);
  assert.deepEqual(plan.unreadable, []);
});

Deno.test("coverage: an unreadable folder is left out, its siblings followed whole, the way to it flat", () => {
  const plan = planCoverage(
    ["/s", "/t"],
    lister({
      "/s": ["a", "b", "c"],
      "/s/a": ["locked", "open"],
      "/s/a/locked": "denied",
      "/s/a/open": ["deep"],
      "/s/b": ["x"],
      "/t": ["y"],
    }),
  );
  assert.deepEqual(plan.unreadable, [
    { path: "/s/a/locked", error: "Permission denied (os error 13)" },
  ]);
  assert.deepEqual(plan.flat.sort(), ["/s", "/s/a"]);
  assert.deepEqual(plan.recursive.sort(), ["/s/a/open", "/s/b", "/s/c", "/t"]);
});

Deno.test("coverage: a folder gone while the sources are walked is passed over, not said unreadable", () => {
  // A soak under churn: removed between its parent's listing and its own, it was warned
  // about as a folder that cannot be read, and its parent followed flat around it.
  const plan = planCoverage(
    ["/s"],
    lister({ "/s": ["a", "b"], "/s/a": ["gone"], "/s/a/gone": "gone", "/s/b": ["z@"] }),
  );
  assert.deepEqual(plan.unreadable, []);
  assert.deepEqual(plan.flat.sort(), ["/s", "/s/b"]);
  assert.deepEqual(plan.recursive, ["/s/a"]);
  // A source itself gone is another matter: it is looked for again (missing_roots.ts).
  assert.deepEqual(planCoverage(["/s"], lister({ "/s": "gone" })).unreadable, [
    { path: "/s", error: "No such file or directory" },
  ]);
});

Deno.test("coverage: an unreadable source is not followed at all", () => {
  const plan = planCoverage(["/s"], lister({ "/s": "denied" }));
  assert.deepEqual(plan, {
    recursive: [],
    flat: [],
    unreadable: [{ path: "/s", error: "Permission denied (os error 13)" }],
    linked: [],
  });
});

Deno.test("coverage: events that change the plan, and events that do not", () => {
  const plan = {
    recursive: ["/s/a/open", "/s/b"],
    flat: ["/s", "/s/a"],
    unreadable: [{ path: "/s/a/locked", error: "denied" }],
    linked: [],
  };
  const folders = new Set(["/s/new", "/s/a/open", "/s/b/sub"]);
  const changes = replanTest(plan, (p) => folders.has(p));
  const event = (kind: Deno.FsEvent["kind"], ...paths: string[]) => ({ kind, paths });
  assert.equal(changes(event("modify", "/s/a/locked")), true, "permissions of the unreadable");
  assert.equal(
    changes(event("create", "/s/new")),
    true,
    "a folder made where only a flat watch sees",
  );
  assert.equal(changes(event("rename", "/s/b", "/s/b2")), true, "a followed folder renamed");
  assert.equal(changes(event("remove", "/s/a/open")), true);
  assert.equal(changes(event("create", "/s/file.txt")), false, "a file in a flat folder");
  assert.equal(changes(event("modify", "/s/a/notes.txt")), false);
  assert.equal(changes(event("create", "/s/b/sub")), false, "below a recursive watch");
});
