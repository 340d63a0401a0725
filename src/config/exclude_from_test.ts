/**
 * `exclude_from`: an exclude file's lines as patterns (blank lines, comments, CR LF, a BOM,
 * trailing spaces), the patterns in effect and their order, and every refusal: one line
 * naming the key, the file (and its line) and the remedy.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { configWarnings, loadConfig } from "./config.ts";
import { excludeFileLines, readFailure } from "./exclude_from.ts";
import { assertRefused, withTree } from "./test_util.ts";
import { createMatcher } from "../core/exclude.ts";

const BASE = { sources: ["./data"], backup_root: "./backup" };

Deno.test("excludeFileLines: blank lines and '#' comments skipped, CR LF and a BOM taken, lines numbered from 1", () => {
  const text =
    "\uFEFF# shared list\r\n*.tmp\r\n\r\n   \r\n\t\n\\#notes#\r\n  # not a comment\nlast";
  assert.deepEqual(excludeFileLines(text), [
    { line: 2, pattern: "*.tmp" },
    { line: 6, pattern: "\\#notes#" },
    { line: 7, pattern: "  # not a comment" },
    { line: 8, pattern: "last" },
  ]);
  assert.deepEqual(excludeFileLines(""), []);
  assert.deepEqual(excludeFileLines("\uFEFF"), []);
  // Trailing spaces are kept here: the matcher drops them as gitignore does, unless escaped.
  assert.deepEqual(excludeFileLines("a  \nb\\ \n"), [
    { line: 1, pattern: "a  " },
    { line: 2, pattern: "b\\ " },
  ]);
});

Deno.test("exclude_from: the files' patterns, in order, before exclude's, each with where it was written", () =>
  withTree((tree) => {
    Deno.writeTextFileSync(tree.at("one.txt"), "# one\n*.tmp\nbuild/\n");
    Deno.mkdirSync(tree.at("etc"));
    Deno.writeTextFileSync(tree.at("etc/two"), "*.log\r\n");
    const file = tree.write({
      ...BASE,
      exclude: ["!keep.tmp"],
      exclude_from: ["./one.txt", tree.at("etc/two")],
    });
    const config = loadConfig(file);
    assert.deepEqual(config.exclude, ["*.tmp", "build/", "*.log", "!keep.tmp"]);
    assert.deepEqual(config.excludeFrom, [tree.at("one.txt"), tree.at("etc/two")]);
    assert.deepEqual(config.excludeOrigins, [
      { key: "exclude_from[0]", file: tree.at("one.txt"), line: 2 },
      { key: "exclude_from[0]", file: tree.at("one.txt"), line: 3 },
      { key: "exclude_from[1]", file: tree.at("etc/two"), line: 1 },
      { key: "exclude[0]" },
    ]);
    // `exclude`'s `!` comes last, and so takes back what a shared file leaves out.
    const matcher = createMatcher(config.exclude);
    assert.equal(matcher.ignores("a.tmp"), true);
    assert.equal(matcher.ignores("keep.tmp"), false);
    assert.equal(matcher.ignores("x/build/y.c"), true);
    assert.equal(matcher.ignores("x.LOG"), true);
  }));

Deno.test("exclude_from: a file's patterns match exactly as the same patterns written in exclude", () =>
  withTree((tree) => {
    const patterns = [
      "*.tmp",
      "trailing  ",
      "escaped\\ ",
      "\\#hash",
      "\\!bang",
      "/anchored/",
      "a/**/z",
    ];
    Deno.writeTextFileSync(tree.at("ex.txt"), `${patterns.join("\r\n")}\r\n`);
    const fromFile = loadConfig(tree.write({ ...BASE, exclude_from: ["ex.txt"] }));
    const inKey = loadConfig(tree.write({ ...BASE, exclude: patterns }, "key.jsonc"));
    assert.deepEqual(fromFile.exclude, inKey.exclude);
    const a = createMatcher(fromFile.exclude);
    const b = createMatcher(inKey.exclude);
    const paths = [
      "x.tmp",
      "trailing",
      "trailing  ",
      "escaped ",
      "escaped",
      "#hash",
      "\\#hash",
      "!bang",
      "anchored/f",
      "d/anchored/f",
      "a/b/c/z",
      "kept.txt",
    ];
    for (const path of paths) assert.equal(a.ignores(path), b.ignores(path), path);
    assert.deepEqual(paths.filter((p) => a.ignores(p)), [
      "x.tmp",
      "trailing",
      "escaped ",
      "#hash",
      "!bang",
      "anchored/f",
      "a/b/c/z",
    ]);
  }));

Deno.test("exclude_from: a pattern beginning with a source's name is warned of with its file and line", () =>
  withTree((tree) => {
    Deno.writeTextFileSync(tree.at("ex.txt"), "# list\ndata/secret/\n");
    const config = loadConfig(
      tree.write({ ...BASE, exclude: ["data/x/"], exclude_from: ["ex.txt"] }),
    );
    assert.deepEqual(configWarnings(config).map((w) => w.split(" matches nothing")[0]), [
      `'exclude_from[0]' 'data/secret/' (line 2 of '${tree.at("ex.txt")}')`,
      `'exclude[0]' 'data/x/' in '${tree.at("config.jsonc")}'`,
    ]);
  }));

/** [case name, exclude_from value, files to write first, expected substrings ($DIR: the tree)]. */
type Case = [string, unknown, Record<string, string | Uint8Array>, string[]];

const REFUSED: Case[] = [
  ["not an array", "./ex.txt", {}, [
    `'exclude_from' must be an array of paths of files of exclude patterns, e.g. ["./exclude.txt"], got string`,
  ]],
  ["an item not a string", [3], {}, ["'exclude_from[0]' must be a string, got number"]],
  ["an empty path", [""], {}, ["'exclude_from[0]' must not be empty: give the path of a file"]],
  ["'~' not expanded", ["~/ex.txt"], {}, ["'exclude_from[0]' '~/ex.txt' starts with '~'"]],
  ["a file missing", ["ok.txt", "./nope.txt"], { "ok.txt": "*.tmp\n" }, [
    "'exclude_from[1]' cannot read '$DIR/nope.txt': it does not exist: create it, or remove it " +
    "from 'exclude_from'",
  ]],
  ["a folder", ["data"], {}, [
    "'exclude_from[0]' cannot read '$DIR/data': it is a folder: give the path of a file",
  ]],
  ["a symlink to nothing", ["dangling"], {}, [
    "'exclude_from[0]' cannot read '$DIR/dangling': it is a symlink to '$DIR/missing', which " +
    "does not exist",
  ]],
  ["a file on the way", ["file.txt/ex.txt"], {}, [
    "'exclude_from[0]' cannot read '$DIR/file.txt/ex.txt': '$DIR/file.txt' is a file, not a folder",
  ]],
  ["not UTF-8", ["latin1.txt"], { "latin1.txt": new Uint8Array([0x63, 0x61, 0x66, 0xe9, 10]) }, [
    "'exclude_from[0]' cannot read '$DIR/latin1.txt': it is not UTF-8 text: save it as UTF-8",
  ]],
  ["a binary file", ["bin"], { bin: new Uint8Array([0x2a, 0, 0x0a]) }, [
    "'exclude_from[0]' cannot read '$DIR/bin': it holds a NUL byte, so it is no text file: " +
    "check that 'exclude_from[0]' names the file of exclude patterns",
  ]],
  ["a bad pattern, by its line", ["ex.txt"], { "ex.txt": "# x\r\n*.tmp\r\n\r\n[abc\r\n" }, [
    "'exclude_from[0]' '[abc' (line 4 of '$DIR/ex.txt') has a '[' that no ']' closes",
  ]],
  ["a pattern naming nothing", ["ex.txt"], { "ex.txt": "ok\n!\n" }, [
    "'exclude_from[0]' '!' (line 2 of '$DIR/ex.txt') names nothing",
  ]],
  ["a '..' part", ["ex.txt"], { "ex.txt": "a/../b\n" }, [
    "'exclude_from[0]' 'a/../b' (line 1 of '$DIR/ex.txt') has a '.' or '..' part",
  ]],
];

Deno.test("exclude_from refuses, in one line naming the key, the file and the remedy", async (t) => {
  for (const [name, value, files, expected] of REFUSED) {
    await t.step(name, () =>
      withTree((tree) => {
        for (const [rel, content] of Object.entries(files)) {
          if (typeof content === "string") Deno.writeTextFileSync(join(tree.dir, rel), content);
          else Deno.writeFileSync(join(tree.dir, rel), content);
        }
        const file = tree.write({ ...BASE, exclude_from: value });
        assertRefused(tree, file, expected);
      }));
  }
});

Deno.test("exclude_from: a file on the way is named where the system says the path is not found, as Windows does", () =>
  withTree((tree) => {
    // withTree's file.txt is a file. Windows answers a path below a file with ERROR_PATH_NOT_FOUND (NotFound), not ENOTDIR.
    const windows = new Deno.errors.NotFound(
      "The system cannot find the path specified. (os error 3)",
    );
    const linux = new Deno.errors.NotADirectory("Not a directory (os error 20)");
    for (const err of [windows, linux]) {
      assert.equal(
        readFailure(tree.at("file.txt/ex.txt"), err),
        `'${tree.at("file.txt")}' is a file, not a folder: check the path`,
      );
    }
    // A file missing in a folder that is there is still told to be created.
    assert.match(
      readFailure(tree.at("nope.txt"), windows),
      /^it does not exist: create it, or remove it from 'exclude_from'$/,
    );
  }));

Deno.test({
  name: "exclude_from: a file this user may not read is refused with the remedy",
  ignore: Deno.build.os === "windows" || Deno.uid() !== 0,
  fn: async () => {
    // As root every file reads: checked in a process of its own as nobody.
    const dir = Deno.makeTempDirSync({ prefix: "exclude_from_test_" });
    try {
      Deno.chmodSync(dir, 0o755);
      Deno.mkdirSync(join(dir, "data"));
      Deno.writeTextFileSync(join(dir, "ex.txt"), "*.tmp\n");
      Deno.chmodSync(join(dir, "ex.txt"), 0o600);
      const file = join(dir, "config.jsonc");
      Deno.writeTextFileSync(file, JSON.stringify({ ...BASE, exclude_from: ["ex.txt"] }));
      Deno.chmodSync(file, 0o644);
      const loader = new URL("./config.ts", import.meta.url).href;
      const script = `import { loadConfig } from ${JSON.stringify(loader)};
try { loadConfig(${
        JSON.stringify(file)
      }); console.log("loaded"); } catch (e) { console.log(e.message); }`;
      const out = await new Deno.Command("setpriv", {
        args: ["--reuid=65534", "--regid=65534", "--clear-groups", Deno.execPath(), "eval", script],
        env: {
          DENO_DIR: Deno.env.get("DENO_DIR") ??
            join(Deno.env.get("HOME") ?? "/root", ".cache/deno"),
        },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      assert.match(
        text,
        /'exclude_from\[0\]' cannot read '.*ex\.txt': Permission denied.*: make it readable to this user, or list a copy/,
        new TextDecoder().decode(out.stderr),
      );
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test("exclude_from: for a command that leaves nothing out, a file that cannot be read gives no patterns; a bad one is refused still", () =>
  withTree((tree) => {
    Deno.writeTextFileSync(tree.at("ok.txt"), "*.tmp\n");
    const file = tree.write({
      ...BASE,
      exclude: ["*.log"],
      exclude_from: ["./lost/ex.txt", "ok.txt", "data"],
    });
    assert.throws(() => loadConfig(file), /'exclude_from\[0\]' cannot read/);
    const config = loadConfig(file, { excludeFromMayBeUnreadable: true });
    assert.deepEqual(config.exclude, ["*.tmp", "*.log"]);
    assert.deepEqual(config.excludeFrom, [
      tree.at("lost/ex.txt"),
      tree.at("ok.txt"),
      tree.at("data"),
    ]);
    Deno.writeTextFileSync(tree.at("ok.txt"), "[abc\n");
    assert.throws(
      () => loadConfig(file, { excludeFromMayBeUnreadable: true }),
      /'exclude_from\[1\]' '\[abc' \(line 1 of '.*ok\.txt'\) has a '\['/,
    );
  }));

Deno.test("loadConfig's read: the config's and exclude_from files' bytes as given, checked as read from the disk; the disk for a file not given", () =>
  withTree((tree) => {
    const [one, two] = [tree.at("one.txt"), tree.at("two.txt")];
    Deno.writeTextFileSync(one, "on-disk-one\n");
    Deno.writeTextFileSync(two, "*.log\n");
    const file = tree.write({ ...BASE, exclude_from: ["./one.txt", "./two.txt"] });
    const text = JSON.stringify({
      ...BASE,
      rehash: true,
      exclude_from: ["./one.txt", "./two.txt"],
    });
    const given = new Map<string, Uint8Array>([
      [file, new TextEncoder().encode(text)],
      [one, new TextEncoder().encode("*.tmp\n")],
    ]);
    const asked: string[] = [];
    const read = (f: string) => (asked.push(f), given.get(f));
    const config = loadConfig(file, { read });
    assert.equal(config.rehash, true, "the config's bytes as given, not the disk's");
    assert.deepEqual(config.exclude, ["*.tmp", "*.log"], "two.txt, not given, from the disk");
    assert.deepEqual(asked, [file, one, two]);
    given.set(one, new Uint8Array([0x2a, 0xff, 0x0a]));
    assert.throws(
      () => loadConfig(file, { read }),
      /'exclude_from\[0\]' cannot read .*one\.txt.*: it is not UTF-8 text/,
    );
    const gone = (f: string) => {
      if (f === two) throw new Deno.errors.NotFound("gone at the look");
      return undefined;
    };
    assert.throws(
      () => loadConfig(file, { read: gone }),
      /'exclude_from\[1\]' cannot read .*two\.txt.*: it does not exist: create it/,
    );
    const noConfig = () => {
      throw new Deno.errors.NotFound("gone at the look");
    };
    assert.throws(
      () => loadConfig(file, { read: noConfig }),
      /^ConfigError: Cannot read config .*: it does not exist/,
    );
  }));
