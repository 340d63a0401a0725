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
import { dirname, join } from "node:path";
import { listFiles, REPO } from "./helpers.ts";

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
async function nodeImports(
  entry: string,
  { dynamic }: { dynamic: boolean },
): Promise<Map<string, string>> {
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
    const found = await nodeImports(join(SRC, "cli", `${command}.ts`), { dynamic: false });
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

/**
 * The modules the tool's workers run (`new Worker(new URL("./x.ts", import.meta.url))`),
 * entry points of their own, which no import reaches; a worker made another way fails here.
 */
function workerEntries(): string[] {
  const entries: string[] = [];
  for (const rel of listFiles(SRC)) {
    if (!rel.endsWith(".ts") || rel.endsWith("_test.ts")) continue;
    const file = join(SRC, rel);
    const text = Deno.readTextFileSync(file);
    const made = [...text.matchAll(/new Worker\(/g)].length;
    const urls = [...text.matchAll(/new Worker\(new URL\("([^"]+)", import\.meta\.url\)/g)];
    assert.equal(urls.length, made, `${rel}: a worker whose module this test cannot find`);
    entries.push(...urls.map((m) => join(dirname(file), m[1])));
  }
  return entries;
}

Deno.test("README names every node: module the tool and its workers import, and no other", async () => {
  const workers = workerEntries();
  assert.ok(workers.length > 0, "no worker found: the search for them is broken");
  const used = new Set<string>();
  for (const entry of [join(SRC, "main.ts"), ...workers]) {
    for (const spec of (await nodeImports(entry, { dynamic: true })).keys()) used.add(spec);
  }
  const readme = Deno.readTextFileSync(join(REPO, "README.md")).replace(/\s+/g, " ");
  const list = readme.match(
    /uses only Deno's own APIs and its built-in `node:` modules \(([^)]*)\)/,
  );
  assert.ok(list, "README.md no longer says which node: modules the tool uses");
  const named = new Set([...list[1].matchAll(/`(node:[a-z_/]+)`/g)].map((m) => m[1]));
  assert.deepEqual([...named].sort(), [...used].sort());
});
