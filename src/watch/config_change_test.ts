import assert from "node:assert/strict";
import { join } from "node:path";
import { configChangeNotice } from "./config_change.ts";
import { withDir } from "../engine/test_util.ts";

Deno.test(
  "configChangeNotice: said once per change of the config file, nothing while it stays",
  withDir((dir) => {
    const file = join(dir, "config.jsonc");
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
