/**
 * docs/json.md against the documents `--json` prints, through the real CLI on a small backup
 * (a file changed, one deleted, a duplicate, a symlink, one excluded after it was backed
 * up): each object has every field json.md's table gives (but those marked "only when set",
 * "only with …" or given for an option not used) and no field it does not give, so that a
 * field added, renamed or dropped is written in json.md too; a watch's objects likewise,
 * and each command's --help names the fields at its document's top.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, makeFixture, REPO, runCli, writeConfig, writeTree } from "./helpers.ts";
import { backedUp, WatchProcess } from "./watch_helpers.ts";

const DOC = Deno.readTextFileSync(join(REPO, "docs", "json.md"));

/** A table's fields (first column's code spans) and whether each is always there. */
type Fields = Map<string, { optional: boolean; type: string }>;

/** Whether a field's type text says it is not always there. */
const OPTIONAL = /only when set|only with|^with `--|, only |^only /;

/** The first table after `anchor` (a unique text of json.md) whose first column is `head`. */
function tableAfter(anchor: string, head = "field"): Fields {
  const at = DOC.indexOf(anchor);
  assert.ok(at >= 0, `docs/json.md no longer has ${JSON.stringify(anchor)}`);
  const rest = DOC.slice(at).split("\n");
  const start = rest.findIndex((l) => new RegExp(`^\\| \`?${head}\`? +\\|`).test(l));
  assert.ok(start >= 0, `no table after ${JSON.stringify(anchor)}`);
  const fields: Fields = new Map();
  for (const line of rest.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    const [, name, type] = line.split(/(?<!\\)\|/).map((c) => c.trim());
    for (const [, field] of name.matchAll(/`([^`]+)`/g)) {
      fields.set(field, { optional: OPTIONAL.test(type), type });
    }
  }
  return fields;
}

/** The names in a `{ "a", "b" }` span of some text (the first such span). */
function braced(text: string): string[] {
  const span = text.match(/`\{ ?((?:"\w+"(?:: [^,}]+)?,? ?)+)\}`/);
  assert.ok(span, `no { "field", … } in ${text}`);
  return [...span[1].matchAll(/"(\w+)"/g)].map((m) => m[1]);
}

/** Asserts `doc`'s keys are the table's: all it always gives, none it does not. */
function assertFields(what: string, doc: Record<string, unknown>, fields: Fields): void {
  const keys = Object.keys(doc);
  const undocumented = keys.filter((k) => !fields.has(k));
  const missing = [...fields].filter(([k, f]) => !f.optional && !keys.includes(k)).map(([k]) => k);
  assert.deepEqual({ undocumented, missing }, { undocumented: [], missing: [] }, what);
}

/** Asserts each element of an array field holds the `{ … }` its type names, and no other. */
function assertElements(what: string, list: unknown, type: string): void {
  assert.ok(Array.isArray(list), `${what}: not an array`);
  const always = braced(type);
  const also = [...type.matchAll(/`(\w+)`/g)].map((m) => m[1]);
  for (const element of list as Record<string, unknown>[]) {
    const keys = Object.keys(element);
    const missing = always.filter((k) => !keys.includes(k));
    const undocumented = keys.filter((k) => !always.includes(k) && !also.includes(k));
    assert.deepEqual({ undocumented, missing }, { undocumented: [], missing: [] }, what);
  }
}

async function json(fx: Fixture, ...args: string[]): Promise<Record<string, unknown>> {
  const r = await fx.cli(...args, "--json");
  assert.ok(r.code === 0 || r.code === 1, `${args.join(" ")}: ${r.code} ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/**
 * A backup of four runs: changed, deleted, duplicate, symlink, one file excluded since, an
 * empty folder.
 */
async function backup(): Promise<Fixture> {
  const fx = makeFixture({ "one.txt": "one\n", "two.txt": "two\n", "docs/a.txt": "a\n" });
  Deno.symlinkSync("one.txt", join(fx.source, "link"));
  Deno.mkdirSync(join(fx.source, "empty"));
  assert.equal((await fx.cli("run", "-q")).code, 0);
  writeTree(fx.source, { "one.txt": "one v2\n", "dup.txt": "two\n", "three.txt": "3\n" });
  Deno.removeSync(join(fx.source, "docs/a.txt"));
  assert.equal((await fx.cli("run", "-q")).code, 0);
  writeConfig(fx.config, {
    sources: ["./source"],
    backup_root: "./backup",
    log_dir: "./logs",
    exclude: ["three.txt"],
  });
  assert.equal((await fx.cli("run", "-q")).code, 0);
  writeTree(fx.source, { "one.txt": "one v3\n", "new.txt": "new\n" });
  return fx;
}

Deno.test("docs/json.md: run, plan and history --json have exactly the fields its tables give", async () => {
  await using fx = await backupFixture();
  const run = tableAfter("## `run --json`");
  const plan = await json(fx.fx, "plan");
  const planFields: Fields = new Map([...run].filter(([k]) => k !== "runId" && k !== "logFile"));
  planFields.set("actions", { optional: false, type: "" });
  assertFields("plan --json", plan, planFields);
  const types = tableAfter("| `type`", "type");
  for (const action of plan.actions as Record<string, unknown>[]) {
    const other = types.get(action.type as string);
    assert.ok(other, `plan --json: action type '${action.type}' is not in json.md`);
    const named = [...other.type.matchAll(/`(\w+)`/g)].map((m) => m[1]);
    const extra = Object.keys(action).filter((k) => !["type", "path", ...named].includes(k));
    assert.deepEqual(extra, [], `plan --json: fields of a '${action.type}' action`);
  }
  const done = await json(fx.fx, "run");
  assertFields("run --json", done, run);
  const counts = tableAfter("`counts` has every key", "key");
  assertFields("run --json counts", done.counts as Record<string, unknown>, counts);

  const runs = tableAfter("`history --json` (no PATH)");
  const history = await json(fx.fx, "history");
  assert.deepEqual(Object.keys(history), ["backupRoot", "runs"]);
  for (const r of history.runs as Record<string, unknown>[]) {
    assertFields("history --json run", r, runs);
  }
  const versions = tableAfter("`history PATH --json`");
  const top = new Set(["path", "excluded", "excludedAt", "exclusions", "versions", "stood"]);
  for (const path of ["one.txt", "three.txt", "link", "empty"]) {
    const doc = await json(fx.fx, "history", path);
    assert.deepEqual(Object.keys(doc).filter((k) => !top.has(k)), [], `history ${path} --json`);
    for (const v of doc.versions as Record<string, unknown>[]) {
      assertFields(`history ${path} --json version`, v, versions);
    }
  }
  // A folder that holds no file: when it stood.
  const stood = DOC.slice(DOC.indexOf("`stood`, only for a folder"));
  const folder = await json(fx.fx, "history", "empty");
  assert.equal((folder.stood as unknown[]).length, 1);
  assertElements("history empty --json stood", folder.stood, stood.slice(0, stood.indexOf(".")));
});

Deno.test("docs/json.md: verify, restore, ls, diff, find and stats --json have exactly the fields its tables give", async () => {
  await using fx = await backupFixture();
  const verify = tableAfter("`verify --json`");
  assertFields("verify --json", await json(fx.fx, "verify"), verify);

  const restore = tableAfter("`restore --json`");
  const to = join(fx.fx.dir, "restored");
  for (const args of [["--to", to, "--dry-run"], ["--to", to], ["--at", "1s", "--to", to]]) {
    const doc = await json(fx.fx, "restore", ...args, "--include", "*.txt", "--exclude", "x");
    assertFields(`restore ${args.join(" ")} --json`, doc, restore);
    for (const list of ["restored", "upToDate"]) {
      assertElements(`restore --json ${list}`, doc[list], restore.get("restored")!.type);
    }
    if (doc.folders !== undefined) {
      assertElements("restore --json folders", doc.folders, restore.get("folders")!.type);
    }
  }

  const ls = tableAfter("`ls --json`");
  const files = tableAfter("Each element of `files`");
  for (const args of [[], ["--at", "1s", "--include", "*.txt", "--exclude", "x"]]) {
    const doc = await json(fx.fx, "ls", ...args);
    assertFields(`ls ${args.join(" ")} --json`, doc, ls);
    for (const f of doc.files as Record<string, unknown>[]) {
      assertFields("ls --json file", f, files);
    }
  }

  const diff = tableAfter("`diff --json`");
  const changes = tableAfter("Each element of `changes`");
  // `--until` a moment after the fixture's runs (not "1s", one second ago: runs made within
  // the last second would fall after it, and the diff would find no change to look at).
  const now = new Date().toISOString();
  for (const args of [[], ["--until", now, "--include", "*.txt", "--exclude", "x"]]) {
    const doc = await json(fx.fx, "diff", "--since", "2000-01-01", ...args);
    assertFields(`diff ${args.join(" ")} --json`, doc, diff);
    assertFields(
      "diff --json counts",
      doc.counts as Record<string, unknown>,
      keysOf(diff, "counts"),
    );
    assert.ok((doc.changes as unknown[]).length > 0);
    for (const c of doc.changes as Record<string, unknown>[]) {
      assertFields("diff --json change", c, changes);
    }
  }

  const find = tableAfter("`find --json`");
  const found = await json(fx.fx, "find", "*");
  assertFields("find --json", found, find);
  const match = DOC.slice(DOC.indexOf("Each match: "));
  const matchFields: Fields = new Map(braced(match).map((k) => [k, { optional: false, type: "" }]));
  for (
    const k of match.split("\n").slice(0, 2).join(" ").match(/with `[^.]*only when set/)![0]
      .matchAll(/`(\w+)`/g)
  ) {
    matchFields.set(k[1], { optional: true, type: "" });
  }
  assert.ok((found.matches as unknown[]).length >= 6);
  for (const m of found.matches as Record<string, unknown>[]) {
    assertFields("find --json match", m, matchFields);
  }

  const stats = tableAfter("`stats --json`");
  const doc = await json(fx.fx, "stats");
  assertFields("stats --json", doc, stats);
  for (const key of ["total", "distinct", "notStored", "excluded"]) {
    assertFields(`stats --json ${key}`, doc[key] as Record<string, unknown>, keysOf(stats, key));
  }

  // A copy removed by hand: verify's repair and forgetting fields.
  Deno.removeSync(join(fx.fx.backup, "versions", "one.txt", "v1.bak"));
  const forgot = await json(fx.fx, "verify", "--forget-missing", "--force");
  assertFields("verify --forget-missing --json", forgot, verify);
  assert.equal((forgot.forgotten as unknown[]).length, 1);
  for (const key of ["repaired", "notRepaired", "forgotten"]) assert.ok(key in forgot, key);

  // purge's document is given in a sentence: its names in quotes, and with --yes two more.
  const purgeDoc = DOC.slice(DOC.indexOf("`purge --json`"), DOC.indexOf("`find --json`"));
  const always = [...purgeDoc.matchAll(/"(\w+)": /g)].map((m) => m[1]);
  const withYes = ["missing", "leftInPlace"];
  assert.deepEqual(always.filter((k) => !withYes.includes(k)), always.slice(0, 6));
  const listed = await json(fx.fx, "purge", "three.txt");
  assert.deepEqual(Object.keys(listed), always.slice(0, 6));
  const purged = await json(fx.fx, "purge", "three.txt", "--yes");
  assert.deepEqual(Object.keys(purged).sort(), [...always.slice(0, 6), ...withYes].sort());
  const copy = braced(
    purgeDoc.slice(purgeDoc.indexOf("each copy")).replace(
      /`path` \(logical\), `version`, `location`[^;]*?`storedAt` and `size`/,
      '`{ "path", "version", "location", "storedAt", "size" }`',
    ),
  );
  for (const c of purged.copies as Record<string, unknown>[]) {
    assert.deepEqual(Object.keys(c), copy);
  }
});

/** The `{ "a", "b" }` a field's type gives, as always-there fields. */
function keysOf(fields: Fields, field: string): Fields {
  return new Map(braced(fields.get(field)!.type).map((k) => [k, { optional: false, type: "" }]));
}

/** `backup()`, removed once the test is done. */
async function backupFixture(): Promise<{ fx: Fixture; [Symbol.asyncDispose](): Promise<void> }> {
  const fx = await backup();
  return { fx, [Symbol.asyncDispose]: () => Promise.resolve(fx[Symbol.dispose]()) };
}

/** The paragraph of a command's --help that says what --json prints. */
async function helpOfJson(fx: Fixture, command: string): Promise<string> {
  const help = (await fx.cli(command, "--help")).stdout;
  return help.split("\n  --json")[1].split(/\n {2}-|\n\n/)[0].replace(/\s+/g, " ");
}

Deno.test("each --help's --json names every field of the document's top, and find's of each match", async () => {
  await using fx = await backupFixture();
  const named = (text: string, key: string) => new RegExp(`\\b${key}\\b`).test(text);
  const documents: [string, string[]][] = [
    ["ls", ["ls", "--at", "1s"]],
    ["diff", ["diff", "--since", "2000-01-01", "--include", "*", "--exclude", "x"]],
    ["find", ["find", "*"]],
    ["stats", ["stats"]],
    ["verify", ["verify"]],
    ["purge", ["purge", "three.txt"]],
    ["restore", ["restore", "--at", "1s", "--to", join(fx.fx.dir, "r")]],
    ["history", ["history", "three.txt"]],
    ["history", ["history"]],
  ];
  const unnamed: string[] = [];
  for (const [command, args] of documents) {
    const help = await helpOfJson(fx.fx, command);
    const doc = await json(fx.fx, ...args);
    const keys = Object.keys(doc).filter((k) => !["command", "ok", "exitCode"].includes(k));
    if (command === "find") {
      for (const m of doc.matches as Record<string, unknown>[]) keys.push(...Object.keys(m));
    }
    for (const key of new Set(keys)) if (!named(help, key)) unnamed.push(`${command} ${key}`);
  }
  assert.deepEqual(unnamed, []);
});

/** The fields json.md gives watch's objects: its example's (always there) and the others. */
function watchFields(): { always: string[]; fields: Set<string> } {
  const said = DOC.slice(DOC.indexOf("`watch --json` prints"), DOC.indexOf("`purge --json`"));
  const example = JSON.parse(said.match(/`(\{"time".*?\})`/)![1].replace("{...}", "{}"));
  const always = Object.keys(example);
  const named = [...said.matchAll(/`([a-z]+[A-Z]?\w*)`/g)].map((m) => m[1]);
  return { always, fields: new Set([...always, ...named]) };
}

Deno.test("watch --json: each object has the fields json.md gives, and no other", async () => {
  using fx = makeFixture({ "a.txt": "a\n" }, { watch: { debounce_ms: 200, rescan_interval: 0 } });
  const { always, fields } = watchFields();
  await using w = new WatchProcess(fx, ["--json"]);
  await w.ready();
  writeTree(fx.source, { "b.txt": "b\n" });
  await backedUp(fx.backup, "b.txt", "b\n");
  const objects = (await w.stop()).stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.ok(objects.length >= 2, `${objects.length} objects`);
  for (const o of objects) {
    const keys = Object.keys(o);
    const missing = always.filter((k) => !keys.includes(k));
    const undocumented = keys.filter((k) => !fields.has(k));
    assert.deepEqual({ missing, undocumented }, { missing: [], undocumented: [] });
  }
});

Deno.test("watch --help's --json names every field json.md gives watch's objects", async () => {
  const help = (await runCli(["watch", "--help"])).stdout.split("\n  --json")[1]
    .split(/\n {2}-/)[0].replace(/\s+/g, " ");
  const { fields } = watchFields();
  const unnamed = [...fields].filter((f) => !new RegExp(`\\b${f}\\b`).test(help));
  assert.deepEqual(unnamed, []);
});
