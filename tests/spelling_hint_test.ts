/**
 * A PATH recorded only in another letter case is named, as docs/restore.md says, however the PATH
 * is written: relative to the source root, or as the logs show it, with the source's name
 * in front (which, with one source, also reads as the source's own folder of that name).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, runCli, runProgram, toolCommand } from "./helpers.ts";

Deno.test("restore and history name the recorded spelling of a PATH given with the source's name in front", async () => {
  using fx = makeFixture({ "docs/a.txt": "a\n" });
  assert.equal((await fx.cli("run")).code, 0);
  const hint =
    "did you mean 'source/docs/a.txt'? (recorded so; the backup tells letter case apart)";
  for (const given of ["Docs/a.txt", "source/Docs/a.txt"]) {
    const restore = await fx.cli("restore", given, "--to", `${fx.dir}/r`);
    assert.equal(restore.code, 1, restore.stderr);
    assert.ok(restore.stderr.includes(hint), `restore ${given}: ${restore.stderr}`);
    // Named as given, with the source's name in front once (not `source/source/Docs/a.txt`).
    assert.ok(restore.stderr.includes("'source/Docs/a.txt' is not in the backup"), restore.stderr);
    const history = await fx.cli("history", given);
    assert.equal(history.code, 1, history.stderr);
    assert.ok(history.stderr.includes(hint), `history ${given}: ${history.stderr}`);
  }
});

Deno.test("with one source holding a folder of its own name, both readings are looked at", async () => {
  using fx = makeFixture({ "source/b.txt": "b\n" });
  assert.equal((await fx.cli("run")).code, 0);
  // `source/B.txt`: the source's `B.txt`, or its folder `source`'s: recorded as the second.
  const restore = await fx.cli("restore", "source/B.txt", "--to", `${fx.dir}/r`);
  assert.equal(restore.code, 1, restore.stderr);
  assert.match(restore.stderr, /did you mean 'source\/source\/b\.txt'\?/);
});

Deno.test("restore --at and --version name the recorded spelling of a PATH too", async () => {
  using fx = makeFixture({ "docs/a.txt": "a\n" });
  assert.equal((await fx.cli("run")).code, 0);
  const hint =
    "did you mean 'source/docs/a.txt'? (recorded so; the backup tells letter case apart)";
  const at = new Date(Date.now() + 60_000).toISOString();
  for (const how of [["--at", at], ["--version", "1"]]) {
    const restore = await fx.cli("restore", "Docs/a.txt", ...how, "--to", `${fx.dir}/r`);
    assert.equal(restore.code, 1, restore.stderr);
    assert.ok(restore.stderr.includes(hint), `restore ${how[0]}: ${restore.stderr}`);
  }
  // A file recorded at that spelling but not at that moment gets no hint: it is that file.
  const before = await fx.cli("restore", "docs/a.txt", "--at", "2000-01-01", "--to", `${fx.dir}/r`);
  assert.equal(before.code, 1, before.stderr);
  assert.doesNotMatch(before.stderr, /did you mean/);
});

Deno.test("a PATH in single quotes of its own (as cmd.exe passes them on) is told so by restore, history, ls, diff, stats and purge", async () => {
  using fx = makeFixture({ "docs/a b.txt": "a\n" });
  assert.equal((await fx.cli("run")).code, 0);
  const hint =
    /the single quotes around it are part of the PATH \(cmd\.exe passes them on\): give it in double quotes, "like this", or none/;
  const given = "'docs/a b.txt'";
  for (
    const args of [
      ["restore", given, "--to", `${fx.dir}/r`],
      ["history", given],
      ["ls", given],
      ["diff", "--since", "1h", given],
      ["stats", given],
      ["purge", given],
    ]
  ) {
    const out = await fx.cli(...args);
    assert.notEqual(out.code, 0, args[0]);
    assert.match(out.stderr, hint, `${args[0]}: ${out.stderr}`);
  }
  // Unquoted, it is found; a name really in quotes is another file, no hint given for it.
  assert.equal((await fx.cli("history", "docs/a b.txt")).code, 0);
  const inner = await fx.cli("history", "docs/'x'");
  assert.doesNotMatch(inner.stderr, /single quotes/);
});

Deno.test("a PATH recorded only in the other Unicode form: restore says which form, not letter case", async () => {
  const decomposed = "cafe\u0301.txt"; // as macOS writes it; shown as café.txt
  using fx = makeFixture({ [decomposed]: "x\n" });
  assert.equal((await fx.cli("run")).code, 0);
  const hint =
    "did you mean 'source/café.txt'? (recorded so, the same name written decomposed (NFD, as " +
    "macOS writes names): give the path as the disk spells it (the two look alike on screen))";
  for (const to of [`${fx.dir}/r`, "-"]) {
    const restore = await fx.cli("restore", decomposed.normalize("NFC"), "--to", to);
    assert.equal(restore.code, 1, restore.stderr);
    assert.ok(restore.stderr.includes(hint.normalize("NFD")), `--to ${to}: ${restore.stderr}`);
    assert.doesNotMatch(restore.stderr, /letter case/);
  }
});

Deno.test({
  name: "a PATH given in bytes that are not UTF-8 (a Latin-1 terminal) is said to be so",
  ignore: Deno.build.os === "windows", // arguments are UTF-16 there
  fn: async () => {
    using fx = makeFixture({ "naïve.txt": "n\n" });
    assert.equal((await fx.cli("run")).code, 0);
    // `naïve.txt` typed where the terminal writes Latin-1: ï is the one byte 0xEF.
    for (const command of ["ls", "history", "restore"]) {
      const { cmd, args } = toolCommand([command, "--config", fx.config]);
      const script = 'exec "$0" "$@" "$(printf "na\\357ve.txt")"';
      const r = await runProgram("sh", ["-c", script, cmd, ...args]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /(is not in the backup|was never backed up): the PATH given is not valid UTF-8 \(a terminal or script writing another encoding\): give it in UTF-8/,
        `${command}: ${r.stderr}`,
      );
    }
  },
});

Deno.test({
  name: "a --to or --config given in bytes that are not UTF-8 is refused so, nothing made",
  ignore: Deno.build.os === "windows", // arguments are UTF-16 there
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n" });
    assert.equal((await fx.cli("run")).code, 0);
    // `ré` typed where the terminal writes Latin-1 (é is 0xE9): Deno reads `r\uFFFD`, a
    // folder of another name, which the restore made and wrote into.
    const latin1 = (name: string) => `"$(printf "${name}")"`;
    const cases = [
      ["restore", "--to", latin1(`${fx.dir}/r\\351`), "--config", fx.config],
      ["ls", "--config", latin1(`${fx.dir}/c\\351.jsonc`)],
      ["init", "--config", latin1(`${fx.dir}/c\\351.jsonc`)],
      // A config naming such a folder, which a run would then make (or never find).
      ["init", join(fx.dir, "i"), "--backup-root", latin1(`${fx.dir}/b\\351`)],
      ["init", join(fx.dir, "i"), "--source", latin1(`${fx.dir}/s\\351`)],
      ["ls", "--backup-root", latin1(`${fx.dir}/b\\351`)],
      ["verify", "--repair", "--backup-root", latin1(`${fx.dir}/b\\351`)],
    ];
    for (const words of cases) {
      const { cmd, args } = toolCommand([]);
      const line = [cmd, ...args, ...words].map((w) => w.startsWith('"') ? w : `'${w}'`);
      const r = await runProgram("sh", ["-c", line.join(" ")]);
      assert.equal(r.code, 2, `${words[0]}: ${r.stderr}`);
      assert.match(
        r.stderr,
        /the path given is not valid UTF-8 \(a terminal or script writing another encoding\): give it in UTF-8\n$/,
        `${words[0]}: ${r.stderr}`,
      );
    }
    const made = [...Deno.readDirSync(fx.dir)].map((e) => e.name).sort();
    assert.deepEqual(made, ["backup", "config.jsonc", "logs", "source"]);
  },
});

Deno.test({
  name: "a path that holds U+FFFD itself, given in UTF-8, is taken: restore --to and init",
  ignore: Deno.build.os === "windows", // arguments are UTF-16 there
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n" });
    assert.equal((await fx.cli("run")).code, 0);
    // A folder whose name holds U+FFFD itself (valid UTF-8: EF BF BD), as one restored from
    // a name that was not UTF-8 may be: a --to below it, or an init into it, is meant.
    const odd = join(fx.dir, "r\uFFFD");
    Deno.mkdirSync(odd);
    let r = await fx.cli("restore", "--to", join(odd, "out"));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(Deno.readTextFileSync(join(odd, "out", "a.txt")), "a\n");
    r = await runCli(["init", odd, "--source", fx.source, "--backup-root", fx.backup]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Deno.statSync(join(odd, "config.jsonc")).isFile);
    if (Deno.build.os !== "linux") return; // where the bytes given can be read back
    // A new folder of such a name, given in UTF-8 (/proc/self/cmdline tells it apart).
    const fresh = join(fx.dir, "n\uFFFD");
    r = await fx.cli("restore", "--to", fresh);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(Deno.readTextFileSync(join(fresh, "a.txt")), "a\n");
  },
});
