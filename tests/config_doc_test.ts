/**
 * README's and docs/configuration.md's key tables and examples against the loader and
 * `init`: each table lists every key the loader takes (DEFAULTS, sources, backup_root),
 * with DEFAULTS' value as its default; a config of every key at its documented default
 * loads, to the defaults; each page's example config loads; `init` writes each key at that
 * default.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DEFAULTS, loadConfig } from "../src/config/config.ts";
import { REPO, runCli } from "./helpers.ts";

/** Each page, and the heading its key table is under. */
const PAGES: Record<string, string> = {
  "README.md": "## Configuration",
  [join("docs", "configuration.md")]: "## Every key",
};

/** The rows of a page's key table: key (`retention.keep_daily`) to default, as written. */
function keyTable(page: string): Map<string, string> {
  const text = Deno.readTextFileSync(join(REPO, page)).split(PAGES[page])[1].split("\n## ")[0];
  const rows = [...text.matchAll(/^\| `([\w.]+)` +\| ([^|]+?) +\|/gm)];
  return new Map(rows.map((m) => [m[1], m[2].replace(/^`|`$/g, "")]));
}

/** A page's example config (its first jsonc block). */
function example(page: string): string {
  const text = Deno.readTextFileSync(join(REPO, page));
  return text.split(PAGES[page].startsWith("## Every") ? "# " : PAGES[page])[1].match(
    /```jsonc\n(\{[\s\S]*?\n\})\n```/,
  )![1];
}

/** A default as JSON writes it in a config: `./logs` is "./logs", `local` "local". */
function written(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

for (const page of Object.keys(PAGES)) {
  Deno.test(`${page}: its key table gives every key the loader takes, at its default`, () => {
    const table = keyTable(page);
    const keys = ["sources", "backup_root", ...Object.keys(DEFAULTS)];
    assert.deepEqual([...table.keys()].sort(), keys.sort());
    for (const [key, value] of Object.entries(DEFAULTS)) {
      assert.equal(table.get(key), written(value), `${page}: default of ${key}`);
    }
  });

  Deno.test(`${page}: its example config loads`, () => {
    const dir = Deno.makeTempDirSync({ prefix: "bt-config-doc-" });
    try {
      Deno.mkdirSync(join(dir, "testdata", "source"), { recursive: true });
      const file = join(dir, "config.jsonc");
      Deno.writeTextFileSync(file, example(page));
      const config = loadConfig(file);
      assert.equal(config.backupRoot, join(dir, "testdata", "backup"));
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

Deno.test("a config of every documented key at its documented default loads to the defaults", () => {
  const dir = Deno.makeTempDirSync({ prefix: "bt-config-doc-" });
  try {
    Deno.mkdirSync(join(dir, "data"));
    const config: Record<string, unknown> = { sources: ["./data"], backup_root: "./backup" };
    for (const [key, text] of keyTable("README.md")) {
      if (key === "sources" || key === "backup_root") continue;
      const value = /^[[{\dtfn]/.test(text) ? JSON.parse(text) : text;
      const [section, name] = key.includes(".") ? key.split(".") : [undefined, key];
      const into = section === undefined
        ? config
        : (config[section] ??= {}) as Record<string, unknown>;
      into[name] = value;
    }
    const file = join(dir, "config.jsonc");
    Deno.writeTextFileSync(file, JSON.stringify(config));
    const bare = join(dir, "bare.jsonc");
    Deno.writeTextFileSync(bare, JSON.stringify({ sources: ["./data"], backup_root: "./backup" }));
    assert.deepEqual({ ...loadConfig(file), file: "" }, { ...loadConfig(bare), file: "" });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("init writes every key the loader takes, at its default", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "bt-config-doc-" });
  try {
    assert.equal((await runCli(["init", "-q"], { cwd: dir })).code, 0);
    const text = Deno.readTextFileSync(join(dir, "config.jsonc"));
    for (const [key, value] of Object.entries(DEFAULTS)) {
      const name = key.split(".").pop()!;
      const line = text.match(new RegExp(`^\\s*"${name}": (.*?),?$`, "m"));
      assert.ok(line, `init writes no "${name}"`);
      assert.deepEqual(JSON.parse(line[1]), value, key);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
