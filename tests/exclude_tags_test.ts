/**
 * Folders tagged to be left out (`exclude_caches`, `exclude_if_present`), through the real
 * CLI: a tagged folder's files are not backed up but its tag is; files backed up before
 * the tag came keep their copies, marked excluded (as an exclude pattern leaves them), and
 * are followed again once the tag goes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { exists } from "./reliability/util.ts";
import { makeFixture, writeConfig } from "./helpers.ts";

const SIGNATURE = "Signature: 8a477f597d28d172789f06886806bc55";
const TAG = `${SIGNATURE}\n# This file is a cache directory tag created by cargo.\n`;

const TREE = {
  "a.txt": "a\n",
  "target/debug/app": "binary\n",
  "target/debug/deps/x.o": "object\n",
  "target/.rustc_info.json": "{}\n",
};

Deno.test("run: a folder tagged CACHEDIR.TAG is left out but for its tag; one with another content, or exclude_caches false, backs everything up", async () => {
  using fx = makeFixture(
    {
      ...TREE,
      "target/CACHEDIR.TAG": TAG,
      "bad/CACHEDIR.TAG": "Signature: nope\n",
      "bad/b.txt": "b",
    },
    { exclude_caches: true },
  );
  const r = await fx.cli("run");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "target/CACHEDIR.TAG")), TAG);
  assert.ok(!exists(join(fx.backup, "target/debug")), "nothing else of target/");
  assert.ok(!exists(join(fx.backup, "target/.rustc_info.json")));
  assert.equal(Deno.readTextFileSync(join(fx.backup, "bad/b.txt")), "b", "a bad tag tags nothing");
  assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt")), "a\n");

  using off = makeFixture({ ...TREE, "target/CACHEDIR.TAG": TAG });
  assert.equal((await off.cli("run")).code, 0);
  assert.equal(Deno.readTextFileSync(join(off.backup, "target/debug/deps/x.o")), "object\n");
});

Deno.test("run: a folder tagged after a backup keeps its files' copies, marked excluded (find, restore), nothing archived, no guard; untagged, they are followed again", async () => {
  using fx = makeFixture(TREE, { exclude_caches: true });
  assert.equal((await fx.cli("run")).code, 0);
  // Three of four files tagged out: more than the guard's 50% were they taken for deleted.
  Deno.writeTextFileSync(join(fx.source, "target/CACHEDIR.TAG"), TAG);
  const r = await fx.cli("run");
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout + r.stderr, /DELETE GUARD|would be archived/);
  assert.ok(r.stdout.includes("3 file(s) newly excluded"), r.stdout);
  assert.ok(!exists(join(fx.backup, "_deleted")), "nothing archived as deleted");
  assert.equal(Deno.readTextFileSync(join(fx.backup, "target/debug/app")), "binary\n");
  assert.ok(
    fx.lastLog().includes(
      "EXCLUDED: source/target/debug/app (now excluded; its copy stays at backup/target/debug/app)",
    ),
  );
  const found = await fx.cli("find", "app");
  assert.match(found.stdout, /^source\/target\/debug\/app .* excluded at \S+Z$/m);
  const restore = await fx.cli("restore", "target/debug", "--to", join(fx.dir, "out"));
  assert.equal(restore.code, 0, restore.stderr);
  assert.match(
    restore.stderr,
    /^WARNING: every file recorded under 'source\/target\/debug' is excluded/,
  );
  const history = await fx.cli("history", "target/debug/app");
  assert.match(
    history.stderr,
    /^WARNING: 'source\/target\/debug\/app' is excluded \(the config leaves it out: an exclude pattern, a folder's tag, one_file_system or exclude_larger_than; taken out at \S+Z\)/m,
  );
  // Changed while tagged: not followed.
  Deno.writeTextFileSync(join(fx.source, "target/debug/app"), "binary 2\n");
  assert.equal((await fx.cli("run")).code, 0);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "target/debug/app")), "binary\n");
  // The tag removed: followed again, the change backed up, the tag's deletion archived.
  Deno.removeSync(join(fx.source, "target/CACHEDIR.TAG"));
  const back = await fx.cli("run");
  assert.equal(back.code, 0, back.stderr);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "target/debug/app")), "binary 2\n");
  assert.match((await fx.cli("find", "app")).stdout, /^source\/target\/debug\/app .* backed up$/m);
});

Deno.test("purge: a file in a tagged folder is no longer backed up; the tag removed, it is again", async () => {
  using fx = makeFixture(TREE, { exclude_if_present: [".nobackup"] });
  assert.equal((await fx.cli("run")).code, 0);
  Deno.writeTextFileSync(join(fx.source, "target/.nobackup"), "");
  // Tagged, no run since: purge takes the disk's word, as it takes a new pattern's.
  const listed = await fx.cli("purge", "target/debug");
  assert.equal(listed.code, 0, listed.stderr);
  Deno.removeSync(join(fx.source, "target/.nobackup"));
  const refused = await fx.cli("purge", "target/debug");
  assert.equal(refused.code, 2, refused.stdout);
  assert.match(
    refused.stderr,
    /^Cannot purge 'source\/target\/debug\/app'.*nothing was changed\n$/,
  );
  // Marked excluded by a run while tagged, the tag removed since: said so.
  Deno.writeTextFileSync(join(fx.source, "target/.nobackup"), "");
  assert.equal((await fx.cli("run")).code, 0);
  Deno.removeSync(join(fx.source, "target/.nobackup"));
  const untagged = await fx.cli("purge", "target/debug/app");
  assert.equal(untagged.code, 2, untagged.stdout);
  assert.match(
    untagged.stderr,
    /nothing in the config leaves it out any more \(no exclude pattern, folder.s tag, one_file_system or exclude_larger_than\), so the next run backs it up again: leave it out again, then purge/,
  );
  // Tagged again: purged.
  Deno.writeTextFileSync(join(fx.source, "target/.nobackup"), "");
  const purged = await fx.cli("purge", "target/debug/app", "--yes");
  assert.equal(purged.code, 0, purged.stderr);
  assert.ok(!exists(join(fx.backup, "target/debug/app")));
});

Deno.test("run: exclude_if_present leaves out a folder holding one of its names, but for that entry", async () => {
  using fx = makeFixture({
    "keep/k.txt": "k",
    "vm/.nobackup": "",
    "vm/disk.img": "big",
    "vm/deep/x": "x",
    "other/NO BACKUP": "why\n",
    "other/o.txt": "o",
  }, { exclude_if_present: [".nobackup", "NO BACKUP"] });
  const r = await fx.cli("run");
  assert.equal(r.code, 0, r.stderr);
  assert.ok(exists(join(fx.backup, "vm/.nobackup")));
  assert.ok(!exists(join(fx.backup, "vm/disk.img")) && !exists(join(fx.backup, "vm/deep")));
  assert.equal(Deno.readTextFileSync(join(fx.backup, "other/NO BACKUP")), "why\n");
  assert.ok(!exists(join(fx.backup, "other/o.txt")));
  assert.equal(Deno.readTextFileSync(join(fx.backup, "keep/k.txt")), "k");
});

Deno.test("run: a bad exclude_if_present name exits 2 with one line naming the key", async () => {
  using fx = makeFixture({ "a.txt": "a" });
  for (const [name, why] of [["a/.nobackup", "holds a path separator"], ["", "is empty"]]) {
    writeConfig(fx.config, {
      sources: ["./source"],
      backup_root: "./backup",
      exclude_if_present: [".nobackup", name],
    });
    const r = await fx.cli("run");
    assert.equal(r.code, 2, r.stdout);
    assert.match(
      r.stderr,
      new RegExp(`^Cannot load config '.*': 'exclude_if_present\\[1\\]' '${name}' ${why}: .*\n$`),
    );
    assert.ok(!exists(fx.backup), "nothing created");
  }
});

Deno.test({
  name:
    "run, purge and a walk starting inside: a CACHEDIR.TAG that is a symlink to a tag file tags its folder (as restic and borg); one dangling, looping, or to a FIFO, a device or a folder tags nothing, and blocks nothing",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    using fx = makeFixture({
      "tags/cargo.tag": TAG,
      "linked/x.bin": "x",
      "linked/deep/y.bin": "y",
      "dangling/d.txt": "d",
      "looping/l.txt": "l",
      "fifo/f.txt": "f",
      "device/z.txt": "z",
      "folder/o.txt": "o",
    }, { exclude_caches: true });
    const pipe = join(fx.dir, "pipe"); // outside the source: nothing else opens it
    assert.ok((await new Deno.Command("mkfifo", { args: [pipe] }).output()).success);
    // Backed up untagged first: the tag then leaves the files out, marked excluded.
    assert.equal((await fx.cli("run")).code, 0);
    const link = (dir: string, target: string) =>
      Deno.symlinkSync(target, join(fx.source, dir, "CACHEDIR.TAG"));
    link("dangling", "missing");
    link("looping", "CACHEDIR.TAG");
    link("fifo", pipe);
    link("device", "/dev/zero");
    link("folder", "../tags");
    // A walk starting inside the folder (purge of a path in it) finds the tag too.
    link("linked", "../tags/cargo.tag");
    const purge = await fx.cli("purge", "linked/deep");
    assert.equal(purge.code, 0, purge.stderr);
    const r = await fx.cli("run");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(r.stdout.includes("2 file(s) newly excluded"), r.stdout);
    assert.equal(Deno.readLinkSync(join(fx.backup, "linked/CACHEDIR.TAG")), "../tags/cargo.tag");
    assert.ok(
      fx.lastLog().includes(
        "EXCLUDED: source/linked/x.bin (now excluded; its copy stays at backup/linked/x.bin)",
      ),
    );
    for (const dir of ["dangling", "looping", "fifo", "device", "folder"]) {
      assert.ok(Deno.lstatSync(join(fx.backup, dir, "CACHEDIR.TAG")).isSymlink, dir);
    }
    assert.match(
      (await fx.cli("find", "d.txt")).stdout,
      /^source\/dangling\/d\.txt .* backed up$/m,
    );
    for (const path of ["looping/l.txt", "fifo/f.txt", "device/z.txt", "folder/o.txt"]) {
      const found = await fx.cli("find", path.split("/")[1]);
      assert.match(found.stdout, new RegExp(`^source/${path} .* backed up$`, "m"), path);
    }
    assert.match(
      (await fx.cli("find", "y.bin")).stdout,
      /^source\/linked\/deep\/y\.bin .* excluded at/m,
    );
  },
});

Deno.test({
  name:
    "run: an exclude_if_present entry of any kind tags its folder, as restic's --exclude-if-present (a folder, walked as any; a symlink, dangling too; a FIFO, said and never opened)",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    using fx = makeFixture({
      "folder/.nobackup/inside.txt": "i",
      "folder/a.txt": "a",
      "link/b.txt": "b",
      "dangling/c.txt": "c",
      "fifo/d.txt": "d",
      "keep/e.txt": "e",
    }, { exclude_if_present: [".nobackup"] });
    Deno.symlinkSync("b.txt", join(fx.source, "link/.nobackup"));
    Deno.symlinkSync("missing", join(fx.source, "dangling/.nobackup"));
    const mkfifo = new Deno.Command("mkfifo", { args: [join(fx.source, "fifo/.nobackup")] });
    assert.ok((await mkfifo.output()).success);
    const r = await fx.cli("run");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(Deno.readTextFileSync(join(fx.backup, "folder/.nobackup/inside.txt")), "i");
    assert.equal(Deno.readLinkSync(join(fx.backup, "link/.nobackup")), "b.txt");
    assert.equal(Deno.readLinkSync(join(fx.backup, "dangling/.nobackup")), "missing");
    assert.match(r.stdout + fx.lastLog().join("\n"), /SKIP SPECIAL: source\/fifo\/\.nobackup/);
    for (const path of ["folder/a.txt", "link/b.txt", "dangling/c.txt", "fifo/d.txt"]) {
      assert.ok(!exists(join(fx.backup, path)), path);
    }
    assert.equal(Deno.readTextFileSync(join(fx.backup, "keep/e.txt")), "e");
  },
});
