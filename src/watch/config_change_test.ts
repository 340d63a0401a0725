import assert from "node:assert/strict";
import { join } from "node:path";
import { CONFIG_CHECK_MS, ConfigFiles, IDLE_LOOKS, loadWatched } from "./config_change.ts";
import { withDir } from "../engine/test_util.ts";
import { poll } from "../../tests/helpers.ts";

Deno.test(
  "ConfigFiles: an edit is handed on once settled (the same at two looks), once",
  withDir((dir) => {
    const file = join(dir, "config.jsonc");
    Deno.writeTextFileSync(file, '{ "sources": ["./s"], "backup_root": "./b" }\n');
    const files = new ConfigFiles(file, []);
    assert.equal(files.look(), false);
    Deno.writeTextFileSync(file, '{ "sources": ["./s"], "backup_root": "./b", "rehash": true }');
    assert.equal(files.look(), false, "not settled yet");
    assert.equal(files.look(), true, "settled: handed on");
    assert.equal(files.look(), false, "once");
    assert.equal(files.asInUse, false);
    Deno.writeTextFileSync(file, Deno.readTextFileSync(file)); // saved again, unchanged
    files.look();
    assert.equal(files.look(), false, "the same text is no change");
    Deno.removeSync(file);
    files.look();
    assert.equal(files.look(), true, "removed is an edit too");
  }),
);

Deno.test(
  "ConfigFiles: an edit undone is the config in use again",
  withDir((dir) => {
    const file = join(dir, "config.jsonc");
    const first = '{ "sources": ["./s"], "backup_root": "./b" }\n';
    Deno.writeTextFileSync(file, first);
    const files = new ConfigFiles(file, []);
    Deno.writeTextFileSync(file, '{ "sources": ["./s"], "backup_root": "./b", "rehash": true }');
    files.look();
    assert.equal(files.look(), true);
    Deno.writeTextFileSync(file, first);
    files.look();
    assert.equal(files.look(), true);
    assert.equal(files.asInUse, true);
  }),
);

Deno.test(
  "ConfigFiles: the exclude_from files of the config in use are looked at, a file listed anew too",
  withDir((dir) => {
    const file = join(dir, "config.jsonc");
    const [one, two] = [join(dir, "one.txt"), join(dir, "two.txt")];
    Deno.writeTextFileSync(one, "*.tmp\n");
    Deno.writeTextFileSync(two, "*.bak\n");
    Deno.writeTextFileSync(file, "{}");
    const files = new ConfigFiles(file, [one]);
    Deno.writeTextFileSync(one, "*.tmp\n*.log\n");
    files.look();
    assert.equal(files.look(), true, "a file it lists, edited");
    Deno.writeTextFileSync(two, "*.bak\n*.old\n");
    files.look();
    assert.equal(files.look(), false, "not listed: not looked at");
    files.inUse([one, two]); // a config reloaded that lists both
    assert.equal(files.asInUse, true);
    Deno.writeTextFileSync(two, "*.bak\n");
    files.look();
    assert.equal(files.look(), true, "listed now");
  }),
);

Deno.test(
  "loadWatched: the config in use is the bytes its load parsed, a save after the load is an edit",
  withDir((dir) => {
    Deno.mkdirSync(join(dir, "s"));
    const file = join(dir, "config.jsonc");
    const ex = join(dir, "ex.txt");
    Deno.writeTextFileSync(ex, "*.tmp\n");
    Deno.writeTextFileSync(
      file,
      '{ "sources": ["./s"], "backup_root": "./b", "exclude_from": ["ex.txt"] }',
    );
    const { config, files } = loadWatched(file);
    assert.deepEqual(config.exclude, ["*.tmp"]);
    Deno.writeTextFileSync(ex, "*.tmp\n*.log\n"); // saved while the session opens
    assert.equal(files.look(), false, "not settled yet");
    assert.equal(files.look(), true, "an edit, handed on");
    assert.equal(files.asInUse, false);
    const { files: again } = loadWatched(file); // nothing saved after this load
    assert.equal(again.look(), false);
    assert.equal(again.look(), false, "no edit");
  }),
);

Deno.test({
  name: "ConfigFiles: out of open files for a moment, the config is neither changed nor gone",
  ignore: Deno.build.os !== "linux",
  fn: withDir(async (dir) => {
    // In a process of its own, its open files limit low and every descriptor taken.
    const file = join(dir, "config.jsonc");
    Deno.writeTextFileSync(file, '{ "sources": ["./s"], "backup_root": "./b" }\n');
    const script = join(dir, "notice.ts");
    const module = new URL("./config_change.ts", import.meta.url).href;
    Deno.writeTextFileSync(
      script,
      `import { ConfigFiles } from ${JSON.stringify(module)};
const files = new ConfigFiles(${JSON.stringify(file)}, []);
Deno.writeTextFileSync(${JSON.stringify(file)}, "{}"); // a new stat: its text is read again
const taken: Deno.FsFile[] = [];
try {
  for (;;) taken.push(Deno.openSync("/dev/null"));
} catch { /* out of open files */ }
const looks = [files.look(), files.look()];
for (const f of taken) f.close();
looks.push(files.look(), files.look());
console.log(JSON.stringify(looks));
`,
    );
    const out = await new Deno.Command("bash", {
      args: ["-c", `ulimit -n 64 && exec "$0" run -A "$1"`, Deno.execPath(), script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    // Out of files: no edit; then the edit, settled at the second look after.
    assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), [false, false, false, true]);
  }),
});

Deno.test(
  "ConfigFiles: a config another program holds on Windows (a sharing violation) is neither an edit nor gone",
  withDir((dir) => {
    const file = join(dir, "config.jsonc");
    Deno.writeTextFileSync(file, '{ "sources": ["./s"], "backup_root": "./b" }\n');
    const files = new ConfigFiles(file, [], { os: "windows" });
    const read = Deno.readFileSync;
    // As Deno gives it on Windows: a plain Error (Rust has no kind for os error 32).
    Deno.readFileSync = () => {
      throw new Error(
        "The process cannot access the file because it is being used by another process. " +
          `(os error 32): readfile '${file}'`,
      );
    };
    const looks: boolean[] = [];
    try {
      Deno.writeTextFileSync(file, "{}"); // saved by the program that holds it, for 4 s
      looks.push(files.look(), files.look());
    } finally {
      Deno.readFileSync = read;
    }
    looks.push(files.look(), files.look());
    // Held: no edit; then the edit, settled at the second look after.
    assert.deepEqual(looks, [false, false, false, true]);
  }),
);

Deno.test(
  "ConfigFiles: looked at every 6 s while the files stay as handed on, every 2 s while an edit is under way",
  withDir((dir) => {
    const file = join(dir, "config.jsonc");
    const ex = join(dir, "ex.txt");
    Deno.writeTextFileSync(file, '{ "sources": ["./s"], "backup_root": "./b" }\n');
    Deno.writeTextFileSync(ex, "*.tmp\n");
    const files = new ConfigFiles(file, [ex]);
    const [idle, busy] = [CONFIG_CHECK_MS * IDLE_LOOKS, CONFIG_CHECK_MS];
    assert.equal(idle, 6_000);
    files.look();
    assert.equal(files.nextLookMs(), idle, "nothing edited");
    Deno.writeTextFileSync(ex, "*.tmp\n*.log\n");
    files.look();
    assert.equal(files.nextLookMs(), busy, "an edit seen: the look that settles it soon");
    assert.equal(files.look(), true);
    assert.equal(files.nextLookMs(), idle, "handed on");
    Deno.writeTextFileSync(file, "{ broken");
    files.look();
    Deno.writeTextFileSync(file, "{ broken, still");
    files.look();
    assert.equal(files.nextLookMs(), busy, "still being edited");
    files.look();
    assert.equal(files.nextLookMs(), idle, "handed on (to be refused)");
    assert.equal(files.nextLookMs(50), 150, "a test's interval");
  }),
);

Deno.test(
  "ConfigFiles: started, an edit is handed on by its looks; closed, they end",
  withDir(async (dir) => {
    const file = join(dir, "config.jsonc");
    Deno.writeTextFileSync(file, '{ "sources": ["./s"], "backup_root": "./b" }\n');
    const files = new ConfigFiles(file, []);
    let handed = 0;
    files.start(() => files.look() && handed++, 20);
    try {
      Deno.writeTextFileSync(file, '{ "sources": ["./s"], "backup_root": "./c" }\n');
      await poll("the edit handed on", () => handed === 1, 10_000);
    } finally {
      files.close(); // the sanitizers fail the test on a timer left running
    }
  }),
);
