/**
 * What every run and watch loads before it does anything: the node: modules reached by
 * static imports from the commands' modules. node:fs and node:crypto bring Deno's Node
 * layer (10-40 ms of every start, the cost that dominates a run over a small tree), so
 * they are imported where they are used (`await import("node:fs")`), never at the top of
 * a module on this path. Read with `deno info --json`, which lists each module's imports
 * and marks the dynamic ones. README's list of the node: modules the tool uses is checked
 * against every one it imports, statically or not.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { REPO } from "./helpers.ts";

const SRC = join(REPO, "src");

/** The node: modules a start may load: none of them brings the Node layer. */
const LIGHT = new Set(["node:os", "node:path", "node:sqlite", "node:url", "node:util"]);

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
}

/**
 * Each node: module reached from `entry` by static imports (`dynamic`: by `await import`
 * too), with a module importing it.
 */
async function staticNodeImports(entry: string, dynamic = false): Promise<Map<string, string>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout));
  const modules = new Map<string, InfoModule>(
    (info.modules as InfoModule[]).map((m) => [m.specifier, m]),
  );
  const found = new Map<string, string>();
  const seen = new Set<string>();
  const stack: string[] = [...info.roots];
  while (stack.length > 0) {
    const at = stack.pop()!;
    if (seen.has(at)) continue;
    seen.add(at);
    for (const dep of modules.get(at)?.dependencies ?? []) {
      if (!dep.code || (dep.isDynamic && !dynamic)) continue;
      const spec = dep.code.specifier;
      if (spec.startsWith("node:")) found.set(spec, at);
      else stack.push(spec);
    }
  }
  return found;
}

for (const command of ["run", "watch"]) {
  Deno.test(`${command}: its start loads no node: module that brings Deno's Node layer`, async () => {
    const found = await staticNodeImports(join(SRC, "cli", `${command}.ts`));
    const heavy = [...found].filter(([spec]) => !LIGHT.has(spec));
    assert.deepEqual(
      heavy.map(([spec, by]) => `${spec} (imported by ${by})`),
      [],
      "import it where it is used, with await import(...)",
    );
    // The walk reaches the state's modules at all (the test is not looking at nothing).
    assert.ok(found.has("node:sqlite"));
  });
}

Deno.test("README names every node: module the tool imports, and no other", async () => {
  // The workers are entry points of their own (new Worker), not imports.
  const entries = ["main.ts", "engine/stage_worker.ts", "watch/fifo_guard_worker.ts"];
  const used = new Set<string>();
  for (const entry of entries) {
    for (const spec of (await staticNodeImports(join(SRC, entry), true)).keys()) used.add(spec);
  }
  const readme = Deno.readTextFileSync(join(REPO, "README.md")).replace(/\s+/g, " ");
  const list = readme.match(
    /uses only Deno's own APIs and its built-in `node:` modules \(([^)]*)\)/,
  );
  assert.ok(list, "README.md no longer says which node: modules the tool uses");
  const named = new Set([...list[1].matchAll(/`(node:[a-z_/]+)`/g)].map((m) => m[1]));
  assert.deepEqual([...named].sort(), [...used].sort());
});
