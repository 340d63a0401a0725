import assert from "node:assert/strict";
import { join } from "node:path";
import { configChangeNotice } from "./config_change.ts";
import { withDir } from "../engine/test_util.ts";

Deno.test(
  "configChangeNotice: said once per change of the config file, nothing while it stays",
  withDir((dir) => {
    const file = join(dir, "config.jsonc");
    Deno.mkdirSync(join(dir, "s")); // a config that loads: the change is one to apply
    Deno.writeTextFileSync(file, '{ "sources": ["./s"], "backup_root": "./b" }\n');
    const changed = configChangeNotice(file);
    assert.equal(changed(), undefined);
    Deno.writeTextFileSync(
      file,
      '{ "sources": ["./s"], "backup_root": "./b", "exclude": ["*.log"] }\n',
    );
    assert.match(
      changed()!,
      /^The config '.*config\.jsonc' changed since this watch started: .*start it again/,
    );
    assert.equal(changed(), undefined, "said once");
    Deno.writeTextFileSync(file, Deno.readTextFileSync(file)); // saved again, unchanged
    assert.equal(changed(), undefined, "the same text is no change");
    Deno.removeSync(file);
    assert.match(changed()!, /changed since this watch started/, "removed is a change too");
  }),
);

Deno.test(
  "configChangeNotice: an edit undone is said as such, not as a change to apply",
  withDir((dir) => {
    const file = join(dir, "config.jsonc");
    Deno.mkdirSync(join(dir, "s"));
    const first = '{ "sources": ["./s"], "backup_root": "./b" }\n';
    Deno.writeTextFileSync(file, first);
    const changed = configChangeNotice(file);
    Deno.writeTextFileSync(file, '{ "sources": ["./s"], "backup_root": "./b", "rehash": true }');
    assert.match(changed()!, /changed since this watch started: .*start it again to apply/);
    Deno.writeTextFileSync(file, first);
    const undone = changed()!;
    assert.match(undone, /is again the one this watch started with: nothing to apply/);
    assert.doesNotMatch(undone, /changed since/);
  }),
);

Deno.test(
  "configChangeNotice: a file of exclude patterns the config lists, edited, is a change of the config",
  withDir((dir) => {
    const file = join(dir, "config.jsonc");
    const list = join(dir, "exclude.txt");
    Deno.mkdirSync(join(dir, "s"));
    Deno.writeTextFileSync(list, "*.tmp\n");
    Deno.writeTextFileSync(
      file,
      '{ "sources": ["./s"], "backup_root": "./b", "exclude_from": ["exclude.txt"] }\n',
    );
    const changed = configChangeNotice(file, [list]);
    assert.equal(changed(), undefined);
    Deno.writeTextFileSync(list, "*.tmp\n");
    assert.equal(changed(), undefined, "saved again unchanged: no change");
    Deno.writeTextFileSync(list, "*.tmp\n*.log\n");
    assert.equal(
      changed(),
      `The file of exclude patterns '${list}' (exclude_from of the config '${file}') changed ` +
        "since this watch started: the watch goes on with the patterns it started with; stop " +
        "it and start it again to apply the change",
    );
    assert.equal(changed(), undefined, "said once");
    Deno.writeTextFileSync(list, "*.tmp\n[abc\n");
    const broken = changed()!;
    assert.match(broken, /^The file of exclude patterns '.*exclude\.txt' .* changed since/);
    assert.match(
      broken,
      /would refuse it \(.*'\[abc' \(line 2 of '.*exclude\.txt'\).*\): fix it first$/,
    );
    Deno.removeSync(list);
    assert.match(changed()!, /would refuse it \(.*cannot read '.*exclude\.txt': it does not exist/);
    Deno.writeTextFileSync(list, "*.tmp\n");
    assert.match(changed()!, /are again the ones this watch started with: nothing to apply$/);
  }),
);

Deno.test(
  "configChangeNotice: a config broken or removed meanwhile says a new start would fail",
  withDir((dir) => {
    const file = join(dir, "config.jsonc");
    Deno.mkdirSync(join(dir, "s"));
    Deno.writeTextFileSync(file, '{ "sources": ["./s"], "backup_root": "./b" }\n');
    const changed = configChangeNotice(file);
    Deno.writeTextFileSync(file, '{ "sources": ["./s"], "backup_root": "./b", "retension": 3 }');
    const broken = changed()!;
    assert.match(broken, /changed since this watch started/);
    assert.match(broken, /would refuse it \(.*unknown key 'retension'.*\): fix it first$/);
    assert.doesNotMatch(broken, /to apply the change/);
    Deno.removeSync(file);
    assert.match(changed()!, /it is gone, and a watch started again would find no config/);
  }),
);

Deno.test({
  name:
    "configChangeNotice: out of open files for a moment, the config is neither changed nor gone",
  ignore: Deno.build.os !== "linux",
  fn: withDir(async (dir) => {
    // In a process of its own, its open files limit low and every descriptor taken.
    const file = join(dir, "config.jsonc");
    Deno.mkdirSync(join(dir, "s"));
    Deno.writeTextFileSync(file, '{ "sources": ["./s"], "backup_root": "./b" }\n');
    const script = join(dir, "notice.ts");
    const notice = new URL("./config_change.ts", import.meta.url).href;
    Deno.writeTextFileSync(
      script,
      `import { configChangeNotice } from ${JSON.stringify(notice)};
const changed = configChangeNotice(${JSON.stringify(file)});
const taken: Deno.FsFile[] = [];
try {
  for (;;) taken.push(Deno.openSync("/dev/null"));
} catch { /* out of open files */ }
const out = changed();
for (const f of taken) f.close();
console.log(JSON.stringify([out ?? null, changed() ?? null]));
`,
    );
    const out = await new Deno.Command("bash", {
      args: ["-c", `ulimit -n 64 && exec "$0" run -A "$1"`, Deno.execPath(), script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), [null, null]);
  }),
});
