import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../config/config.ts";
import { reloadConfig } from "./config_reload.ts";
import { withDir } from "../engine/test_util.ts";
import { followedReloads } from "./test_util.ts";

/** A config in `dir` with `extra` keys, its sources made; the config loaded. */
function configIn(dir: string, extra: Record<string, unknown> = {}) {
  const file = join(dir, "config.jsonc");
  for (const s of ["s", "t"]) Deno.mkdirSync(join(dir, s), { recursive: true });
  write(file, extra);
  return loadConfig(file);
}

function write(file: string, extra: Record<string, unknown>, comment = ""): void {
  const config = { sources: ["./s"], backup_root: "./b", log_dir: "./logs", ...extra };
  Deno.writeTextFileSync(file, `${comment}${JSON.stringify(config, null, 2)}\n`);
}

Deno.test(
  "reloadConfig: an edit that loads is applied, said key by key",
  withDir((dir) => {
    const current = configIn(dir, { exclude: ["*.tmp"] });
    write(current.file, {
      sources: ["./s", "./t"],
      exclude: ["*.log"],
      retention: { max_versions_per_file: 3 },
      watch: { debounce_ms: 200 },
    });
    const r = reloadConfig(current);
    assert.equal(r.kind, "apply");
    assert.equal(
      r.kind === "apply" && r.changes,
      `sources: 't' ('${join(Deno.realPathSync(dir), "t")}') added; exclude patterns: 1 ` +
        "pattern added ('*.log'), 1 pattern removed ('*.tmp'); " +
        "retention.max_versions_per_file 3 (was 10); watch.debounce_ms 200 (was 1000)",
    );
    write(current.file, { exclude: ["*.tmp"] }, "// a comment\n");
    assert.equal(reloadConfig(current).kind, "same");
  }),
);

Deno.test(
  "reloadConfig: every setting a session uses is applied, share_blocks among them",
  withDir((dir) => {
    const current = configIn(dir);
    write(current.file, { share_blocks: false });
    const r = reloadConfig(current);
    assert.equal(r.kind === "apply" && r.changes, "share_blocks false (was true)");
  }),
);

Deno.test(
  "reloadConfig: refused, with the loader's words, where it does not load",
  withDir((dir) => {
    const current = configIn(dir);
    write(current.file, { retension: 3 });
    const r = reloadConfig(current);
    assert.equal(r.kind, "refused");
    assert.match(
      r.kind === "refused" ? r.message : "",
      /^Cannot load config '.*config\.jsonc': .*'retension'.* \(the config was edited while this watch runs: the watch goes on with the config it has, and applies it once it loads: at its next change, or once a folder or file it names is there\)$/,
    );
    write(current.file, { sources: ["./s", "./missing"] });
    const missing = reloadConfig(current);
    assert.match(missing.kind === "refused" ? missing.message : "", /missing/);
  }),
);

Deno.test(
  "reloadConfig: backup_root or log_dir changed is refused, naming the key, the rest kept",
  withDir((dir) => {
    const current = configIn(dir);
    write(current.file, { backup_root: "./other", exclude: ["*.log"] });
    const r = reloadConfig(current);
    assert.equal(r.kind, "refused");
    const message = r.kind === "refused" ? r.message : "";
    assert.match(message, /changed 'backup_root' \(from '.*\/b' to '.*\/other': its lock/);
    assert.match(
      message,
      /the watch goes on with the config it has, and with the rest of the edit too; stop it and start it again to apply it$/,
    );
    write(current.file, { log_dir: "./elsewhere" });
    const log = reloadConfig(current);
    assert.match(log.kind === "refused" ? log.message : "", /changed 'log_dir'/);
  }),
);

Deno.test(
  "ConfigReloads: an edit refused is said once, undone is said so, accepted is taken once",
  withDir((dir) => {
    const current = configIn(dir);
    const first = Deno.readTextFileSync(current.file);
    const { reloads, said, accepted, settle } = followedReloads(current);
    write(current.file, { retension: 3 });
    settle();
    settle();
    assert.equal(said.length, 1, said.join("\n"));
    assert.match(said[0], /^WARNING: Cannot load config .*'retension'/);
    Deno.writeTextFileSync(current.file, first);
    settle();
    assert.match(said[1], /^NOTE: The config '.*' is again the one this watch uses: nothing to/);
    write(current.file, { exclude: ["*.log"] });
    settle();
    assert.equal(accepted(), 1);
    assert.equal(reloads.take()?.changes, "exclude patterns: 1 pattern added ('*.log')");
    assert.equal(reloads.take(), undefined, "taken once");
    assert.equal(said.length, 2, said.join("\n"));
  }),
);

Deno.test(
  "ConfigReloads: an edit refused for a folder or file missing is applied once it is made, the config not edited again",
  withDir((dir) => {
    const current = configIn(dir);
    const { reloads, said, accepted, settle } = followedReloads(current);
    write(current.file, { sources: ["./s", "./docs"], exclude_from: ["./ex.txt"] });
    settle();
    settle();
    assert.equal(said.length, 1, said.join("\n"));
    assert.match(said[0], /^WARNING: Cannot load config .*ex\.txt.*: create it/);
    write(current.file, { sources: ["./s", "./docs"], exclude_from: ["./ex.txt"] }, "// a\n");
    settle();
    assert.equal(said[1], said[0], "a new edit refused alike is said again");
    Deno.writeTextFileSync(join(dir, "ex.txt"), "*.x\n"); // the remedy said
    settle();
    assert.equal(said.length, 3, said.join("\n"));
    assert.match(said[2], /^WARNING: Cannot load config .*docs.* does not exist/);
    settle();
    assert.equal(said.length, 3, "said once");
    Deno.mkdirSync(join(dir, "docs")); // the disk mounted
    settle();
    assert.equal(accepted(), 1, said.join("\n"));
    assert.match(
      reloads.take()?.changes ?? "",
      /^sources: 'docs' .* added; exclude patterns: 1 pattern added \('\*\.x'\); exclude_from: 1 file/,
    );
    settle();
    assert.equal(reloads.take(), undefined, "taken once");
    assert.equal(said.length, 3, said.join("\n"));
  }),
);

Deno.test(
  "ConfigReloads: an edit accepted, then edited again before it was applied, is said against the config in use",
  withDir((dir) => {
    const current = configIn(dir);
    const first = Deno.readTextFileSync(current.file);
    const { reloads, said, settle } = followedReloads(current);
    write(current.file, { exclude: ["*.iso"] });
    settle(); // accepted; a long pass runs meanwhile
    write(current.file, { exclude: ["*.iso", "*.log"] });
    settle();
    assert.equal(
      reloads.take()?.changes,
      "exclude patterns: 2 patterns added ('*.iso', '*.log')",
      "what the watch will apply, not what changed since the edit before",
    );
    write(current.file, { exclude: ["*.iso"] });
    settle();
    Deno.writeTextFileSync(current.file, first); // undone before it was applied
    settle();
    assert.equal(reloads.take(), undefined, "nothing to apply");
    assert.deepEqual(said.filter((m) => m.startsWith("WARNING")), []);
  }),
);
