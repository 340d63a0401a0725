/**
 * `exclude_larger_than` through the real CLI and the pass: a regular file over the limit is
 * not backed up and is said (`SKIP LARGE:`, in the log and on stderr, with --quiet too, and
 * in `plan`'s lines); one at or under it is; a file backed up before that grows over it
 * keeps its copy, marked excluded (no deletion, no guard), purge may take it, and shrunk
 * back it is followed again; the staging and walk workers leave it out alike; a watch
 * says it once a pass. Sparse files make large sizes cheap.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../src/config/config.ts";
import { backupOnce } from "../src/engine/backup.ts";
import { exists } from "./reliability/util.ts";
import { makeFixture, poll, writeConfig, writeTree } from "./helpers.ts";
import { backedUp, DEADLINE_MS, filler, readOrUndefined, WatchProcess } from "./watch_helpers.ts";

const GIB = 1024 ** 3;

Deno.test("run: a file over exclude_larger_than is not backed up and is said in the log and on stderr, with --quiet too; one at or under it, a symlink, are backed up", async () => {
  using fx = makeFixture({
    "a.txt": "a\n",
    "at.bin": "x".repeat(1024),
    "over.bin": "x".repeat(1025),
  }, { exclude_larger_than: "1K" });
  Deno.mkdirSync(join(fx.source, "vm"));
  Deno.writeFileSync(join(fx.source, "vm/disk.img"), new Uint8Array());
  Deno.truncateSync(join(fx.source, "vm/disk.img"), 3 * GIB); // sparse: 3 GiB by its length
  Deno.symlinkSync("disk.img", join(fx.source, "vm/link"));
  const r = await fx.cli("run", "-q");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "");
  assert.equal(
    r.stderr,
    "SKIP LARGE: source/over.bin (1025 B, over exclude_larger_than 1024 B)\n" +
      "SKIP LARGE: source/vm/disk.img (3.0 GiB, over exclude_larger_than 1.0 KiB)\n",
  );
  const log = fx.lastLog();
  assert.ok(
    log.includes("SKIP LARGE: source/vm/disk.img (3.0 GiB, over exclude_larger_than 1.0 KiB)"),
  );
  assert.ok(log.includes("SKIP LARGE: source/over.bin (1025 B, over exclude_larger_than 1024 B)"));
  assert.ok(!exists(join(fx.backup, "vm/disk.img")) && !exists(join(fx.backup, "over.bin")));
  assert.equal(Deno.readTextFileSync(join(fx.backup, "at.bin")).length, 1024, "equal: kept");
  assert.equal(Deno.readLinkSync(join(fx.backup, "vm/link")), "disk.img", "a symlink is no file");
  // Each run says it again; plan lists it without --all, and --json has it.
  const again = await fx.cli("run");
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /^SKIP LARGE: source\/vm\/disk\.img \(3\.0 GiB,/m);
  const plan = await fx.cli("plan");
  assert.equal(plan.code, 0, plan.stderr);
  assert.match(
    plan.stdout,
    /^SKIP LARGE: source\/over\.bin \(1025 B, over exclude_larger_than 1024 B\)$/m,
  );
  const json = await fx.cli("plan", "--json");
  assert.deepEqual(JSON.parse(json.stdout).leftLarge, [
    { path: "source/over.bin", size: 1025 },
    { path: "source/vm/disk.img", size: 3 * GIB },
  ]);
  assert.match(json.stderr, /^SKIP LARGE: source\/over\.bin/m);

  // "1G": the 3 GiB image is over it still, the small files are not.
  writeConfig(fx.config, {
    sources: ["./source"],
    backup_root: "./backup",
    log_dir: "./logs",
    exclude_larger_than: "1G",
  });
  const big = await fx.cli("run");
  assert.equal(big.code, 0, big.stderr);
  assert.equal(
    big.stderr,
    "SKIP LARGE: source/vm/disk.img (3.0 GiB, over exclude_larger_than 1.0 GiB)\n",
  );
  assert.equal(Deno.readTextFileSync(join(fx.backup, "over.bin")).length, 1025);
});

Deno.test("run: a file that grows over the limit keeps its copy, marked excluded (find), nothing archived, no guard; shrunk back, it is followed again", async () => {
  using fx = makeFixture({ "a.bin": "a\n", "b.bin": "b\n", "c.txt": "c\n" }, {
    exclude_larger_than: 100,
  });
  assert.equal((await fx.cli("run")).code, 0);
  // Two of three files grow over it: more than the guard's 50% were they taken for deleted.
  Deno.writeTextFileSync(join(fx.source, "a.bin"), "A".repeat(101));
  Deno.writeTextFileSync(join(fx.source, "b.bin"), "B".repeat(200));
  const r = await fx.cli("run");
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout + r.stderr, /DELETE GUARD|Deletions held back/);
  assert.ok(r.stdout.includes("2 file(s) newly excluded"), r.stdout);
  assert.ok(!exists(join(fx.backup, "_deleted")), "nothing archived as deleted");
  assert.equal(Deno.readTextFileSync(join(fx.backup, "a.bin")), "a\n", "its copy kept");
  const log = fx.lastLog();
  assert.ok(log.includes("SKIP LARGE: source/a.bin (101 B, over exclude_larger_than 100 B)"));
  assert.ok(log.includes("EXCLUDED: source/a.bin (now excluded; its copy stays at backup/a.bin)"));
  assert.match((await fx.cli("find", "a.bin")).stdout, /^source\/a\.bin .* excluded at \S+Z$/m);
  const history = await fx.cli("history", "a.bin");
  assert.match(
    history.stderr,
    /^WARNING: 'source\/a\.bin' is excluded \(the config leaves it out: an exclude pattern, a folder's tag, one_file_system or exclude_larger_than; taken out at \S+Z\)/m,
  );
  // Another run: said again, nothing else happens to it.
  const again = await fx.cli("run");
  assert.equal(again.code, 0, again.stderr);
  assert.ok(!fx.lastLog().some((l) => l.startsWith("EXCLUDED:")));
  assert.ok(fx.lastLog().some((l) => l.startsWith("SKIP LARGE: source/a.bin")));
  // Shrunk back: followed, its new content backed up.
  Deno.writeTextFileSync(join(fx.source, "a.bin"), "a 2\n");
  const back = await fx.cli("run");
  assert.equal(back.code, 0, back.stderr);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "a.bin")), "a 2\n");
  assert.match((await fx.cli("find", "a.bin")).stdout, /^source\/a\.bin .* backed up$/m);
  assert.ok(!exists(join(fx.backup, "_deleted")));
});

Deno.test("purge: a file over the limit now may be purged, marked excluded by a run or not yet; under it, it may not", async () => {
  using fx = makeFixture({ "a.bin": "a\n", "keep.txt": "k\n" }, { exclude_larger_than: "1K" });
  assert.equal((await fx.cli("run")).code, 0);
  Deno.writeTextFileSync(join(fx.source, "a.bin"), "A".repeat(2048));
  // No run since: purge takes the disk's word.
  const listed = await fx.cli("purge", "a.bin");
  assert.equal(listed.code, 0, listed.stderr);
  Deno.writeTextFileSync(join(fx.source, "a.bin"), "a\n");
  const refused = await fx.cli("purge", "a.bin");
  assert.equal(refused.code, 2, refused.stdout);
  assert.match(refused.stderr, /^Cannot purge 'source\/a\.bin'.*nothing was changed\n$/);
  Deno.writeTextFileSync(join(fx.source, "a.bin"), "A".repeat(2048));
  assert.equal((await fx.cli("run")).code, 0);
  const purged = await fx.cli("purge", "a.bin", "--yes");
  assert.equal(purged.code, 0, purged.stderr);
  assert.ok(!exists(join(fx.backup, "a.bin")));
  assert.equal(Deno.readTextFileSync(join(fx.backup, "keep.txt")), "k\n");
});

Deno.test("config: a bad exclude_larger_than is refused with exit code 2, in one line naming it", async () => {
  using fx = makeFixture({ "a.txt": "a" });
  const bad: unknown[] = [0, -1, "abc", "5X", "1.3K", 1.5, true, "-2M"];
  for (const value of bad) {
    writeConfig(fx.config, {
      sources: ["./source"],
      backup_root: "./backup",
      exclude_larger_than: value,
    });
    const r = await fx.cli("run");
    assert.equal(r.code, 2, `${JSON.stringify(value)}: ${r.stdout}${r.stderr}`);
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0],
      /'exclude_larger_than' .*: give a number of bytes, or a number with a unit K, M, G or T/,
    );
    assert.ok(lines[0].includes(JSON.stringify(value)), lines[0]);
  }
  // null: no limit.
  writeConfig(fx.config, {
    sources: ["./source"],
    backup_root: "./backup",
    exclude_larger_than: null,
  });
  assert.equal((await fx.cli("run")).code, 0);
});

Deno.test({
  name:
    "staging and walk workers: a file over the limit is left out and said when a worker walks it",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const tree: Record<string, string> = { ...filler(6), "m/big.bin": "x".repeat(300) };
    using fx = makeFixture(tree, { exclude_larger_than: 200 });
    const first = await backupOnce(loadConfig(fx.config), { stagingAfter: 1 });
    assert.equal(first.exitCode, 0, JSON.stringify(first.errors));
    assert.deepEqual(first.leftLarge, [{ path: "source/m/big.bin", size: 300 }]);
    assert.ok(!exists(join(fx.backup, "m/big.bin")));
    for (const walkerSplit of [0, 1]) {
      using fx2 = makeFixture({ ...tree, "m/big.bin": "small\n" }, { exclude_larger_than: 200 });
      const all = await backupOnce(loadConfig(fx2.config), { walkerSplit });
      assert.equal(all.exitCode, 0, JSON.stringify(all.errors));
      Deno.writeTextFileSync(join(fx2.source, "m/big.bin"), "x".repeat(300));
      const r = await backupOnce(loadConfig(fx2.config), { walkerSplit });
      assert.equal(r.exitCode, 0, JSON.stringify(r.errors));
      assert.deepEqual(r.leftLarge, [{ path: "source/m/big.bin", size: 300 }], `${walkerSplit}`);
      assert.equal(r.counts.exclude, 1, `split ${walkerSplit}`);
      assert.equal(r.counts.delete, 0, `split ${walkerSplit}`);
      assert.equal(Deno.readTextFileSync(join(fx2.backup, "m/big.bin")), "small\n");
    }
  },
});

Deno.test("watch: a file grown over the limit is said and marked excluded by its pass; saved again, it runs no pass; shrunk back, backed up", async () => {
  using fx = makeFixture({ ...filler(), "vm/disk.img": "small\n" }, {
    exclude_larger_than: "1K",
    watch: { debounce_ms: 200, rescan_interval: 0 },
  });
  await using w = new WatchProcess(fx, ["--json"]);
  await w.ready();
  writeTree(fx.source, { "vm/disk.img": "x".repeat(4096) });
  await poll(
    "the grown file marked excluded",
    () => fx.logLines().some((l) => l.startsWith("EXCLUDED: source/vm/disk.img")),
    DEADLINE_MS,
  );
  await poll("SKIP LARGE on stderr", () => w.stderr.includes("SKIP LARGE: source/vm/disk.img"));
  const said = () => fx.logLines().filter((l) => l.startsWith("SKIP LARGE:")).length;
  assert.equal(said(), 1);
  // Saved again while over it: no pass (nothing said), the next change elsewhere backed up.
  writeTree(fx.source, { "vm/disk.img": "y".repeat(4096) });
  writeTree(fx.source, { "keep/after.txt": "after\n" });
  await backedUp(fx.backup, "keep/after.txt", "after\n");
  assert.equal(said(), 1, fx.logLines().join("\n"));
  assert.equal(readOrUndefined(join(fx.backup, "vm/disk.img")), "small\n", "its copy kept");
  // A new file over the limit, never backed up: said by its pass, once; saved again, no pass.
  writeTree(fx.source, { "vm/new.iso": "z".repeat(4096) });
  await poll("SKIP LARGE of the new file", () => said() === 2, DEADLINE_MS);
  writeTree(fx.source, { "vm/new.iso": "w".repeat(4096) });
  writeTree(fx.source, { "keep/after2.txt": "after 2\n" });
  await backedUp(fx.backup, "keep/after2.txt", "after 2\n");
  assert.equal(said(), 2, fx.logLines().join("\n"));
  // Shrunk back: followed again.
  writeTree(fx.source, { "vm/disk.img": "small 2\n" });
  await backedUp(fx.backup, "vm/disk.img", "small 2\n");
  const exit = await w.stop();
  assert.equal(exit.code, 0, exit.stderr);
  assert.ok(!exists(join(fx.backup, "_deleted")));
});
