/**
 * `restore` onto a disk that runs full, through the real CLI: the `--to` folder is a small
 * tmpfs (root on Linux only; ignored where a probe when the module loads finds mounting
 * impossible). The first write the disk refuses (ENOSPC, of a file's bytes or of a folder
 * made for it) stops the restore writing to that disk: one stop line with the counts
 * instead of a line for each file left, exit 1, no temporary file left behind (a `--to`
 * folder that cannot be made at all is one line and exit 2, as before); once the
 * disk is given room (remounted larger), the same restore completes, the files restored
 * before found up to date.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, makeFixture, type Tree } from "./helpers.ts";
import { succeeds } from "./fstab_namespace.ts";
import { unprivileged } from "./reliability/unprivileged.ts";
import { NOBODY } from "./reliability/util.ts";
import { canMountTmpfs, withTmpfs } from "./tmpfs.ts";

const TMPFS = await canMountTmpfs();
if (!TMPFS) console.log("SKIP restore disk full tests: need root on Linux to mount a tmpfs");

/** Runs `body` with a tmpfs of `options` mounted at `<fixture>/mnt`, unmounted after. */
function onSmallDisk(
  fx: Fixture,
  options: string,
  body: (mnt: string) => Promise<void>,
): Promise<void> {
  return withTmpfs(join(fx.dir, "mnt"), options, body);
}

/** Every name under `dir`, relative, sorted. */
function namesUnder(dir: string, rel = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(join(dir, rel))) {
    const r = rel === "" ? e.name : `${rel}/${e.name}`;
    out.push(r);
    if (e.isDirectory) out.push(...namesUnder(dir, r));
  }
  return out.sort();
}

const STOP =
  /^Restore stopped: no space left on device writing to '([^']+)': (\d+) restored, (\d+) up to date, (\d+) not restored(?: \((\d+) of them not tried once the disk was full\))?; free space \(or restore to another disk with --to\) and run the same restore again: files already restored are kept as up to date$/m;

/** The stop line's counts, asserted to be the one line saying so, and no file's line. */
function stopLine(out: { stdout: string; stderr: string }, to: string) {
  const m = out.stdout.match(STOP);
  assert.ok(m, `no stop line:\n${out.stdout}\n${out.stderr}`);
  assert.equal(m[1], to);
  assert.doesNotMatch(out.stderr, /NOT RESTORED|os error 28/, out.stderr);
  assert.equal(out.stdout.match(/^Restore /gm)?.length, 1, out.stdout);
  // No count of files not tried where the refused write was the last one asked.
  const [restored, upToDate, notRestored, notTried] = m.slice(2).map((n) => Number(n ?? 0));
  return { restored, upToDate, notRestored, notTried };
}

function randomFiles(n: number, size: number): Tree {
  const tree: Tree = {};
  for (let i = 1; i <= n; i++) {
    const bytes = new Uint8Array(size);
    for (let at = 0; at < size; at += 65536) {
      crypto.getRandomValues(bytes.subarray(at, Math.min(size, at + 65536)));
    }
    tree[`f${i}.bin`] = bytes;
  }
  return tree;
}

Deno.test({
  name: "restore onto a disk that runs full stops at the first refused write, with one line, " +
    "and the same restore completes once there is room",
  ignore: !TMPFS,
  fn: async () => {
    const tree = randomFiles(40, 100_000);
    using fx = makeFixture(tree);
    assert.equal((await fx.cli("run")).code, 0);
    await onSmallDisk(fx, "size=1m", async (mnt) => {
      const to = join(mnt, "out");
      const full = await fx.cli("restore", "--to", to);
      assert.equal(full.code, 1, full.stdout + full.stderr);
      const c = stopLine(full, to);
      assert.ok(c.restored > 0 && c.restored < 40, full.stdout);
      assert.equal(c.upToDate, 0);
      assert.equal(c.restored + c.notRestored, 40);
      // One write met the full disk; none was tried after it.
      assert.equal(c.notTried, c.notRestored - 1);
      const names = namesUnder(to);
      assert.equal(names.length, c.restored, names.join(" ")); // no temporary file left
      for (const n of names) assert.deepEqual(Deno.readFileSync(join(to, n)), tree[n]);

      // One file alone, the disk still full: the same line, of that file.
      const one = await fx.cli("restore", "f1.bin", "--to", join(mnt, "one"));
      assert.equal(one.code, 1, one.stdout + one.stderr);
      assert.deepEqual(stopLine(one, join(mnt, "one")), {
        restored: 0,
        upToDate: 0,
        notRestored: 1,
        notTried: 0,
      });

      // --json: each file not restored is in `failed`, the ones not tried said so.
      const json = await fx.cli("restore", "--to", to, "--json");
      assert.equal(json.code, 1, json.stderr);
      assert.equal(json.stderr, "");
      const doc = JSON.parse(json.stdout);
      assert.equal(doc.exitCode, 1);
      assert.equal(doc.upToDate.length, c.restored);
      const kinds = doc.failed.map((f: { kind: string }) => f.kind);
      assert.deepEqual(kinds, ["error", ...Array(c.notRestored - 1).fill("not-tried")]);
      assert.match(doc.failed[0].reason, /No space left on device/);
      assert.deepEqual(doc.diskFull, [
        { to, error: doc.failed[0].reason, notTried: c.notRestored - 1 },
      ]);
      assert.equal(namesUnder(to).length, c.restored);

      // Room made: the same restore completes.
      assert.ok(await succeeds("mount", "-o", "remount,size=8m", mnt));
      const again = await fx.cli("restore", "--to", to);
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.match(
        again.stdout,
        new RegExp(`^Restore complete: ${c.notRestored} restored, ${c.restored} up to date`, "m"),
      );
      assert.deepEqual(namesUnder(to), Object.keys(tree).sort());
      for (const n of namesUnder(to)) assert.deepEqual(Deno.readFileSync(join(to, n)), tree[n]);
    });
  },
});

Deno.test({
  name: "restore onto a disk out of inodes: a folder it cannot make stops it as a full disk",
  ignore: !TMPFS,
  fn: async () => {
    const tree: Tree = {};
    for (let d = 1; d <= 12; d++) tree[`d${d}/a.txt`] = `file ${d}\n`;
    using fx = makeFixture(tree);
    assert.equal((await fx.cli("run")).code, 0);
    // The mount's root, out/ and a few folders with their files: the rest find no inode.
    await onSmallDisk(fx, "nr_inodes=12", async (mnt) => {
      const to = join(mnt, "out");
      const full = await fx.cli("restore", "--to", to);
      assert.equal(full.code, 1, full.stdout + full.stderr);
      const c = stopLine(full, to);
      assert.equal(c.restored + c.notRestored, 12);
      assert.ok(c.notRestored > 0 && c.notTried === c.notRestored - 1, full.stdout);
      const files = namesUnder(to).filter((n) => n.includes("/"));
      assert.equal(files.length, c.restored, files.join(" ")); // no temporary file left
      // A --to folder that cannot be made is one line before anything (exit 2), as always.
      const other = await fx.cli("restore", "--to", join(mnt, "other"));
      assert.equal(other.code, 2, other.stdout + other.stderr);
      assert.match(
        other.stderr,
        /^Cannot restore into '[^']*other': .*No space left on device.*: free space on its disk, or restore with --to a folder on another disk$/m,
      );
      assert.ok(await succeeds("mount", "-o", "remount,nr_inodes=1000", mnt));
      const again = await fx.cli("restore", "--to", to);
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.equal(namesUnder(to).filter((n) => n.includes("/")).length, 12);
    });
  },
});

Deno.test({
  name: "restore onto a full disk: hard links and symlinks after the first refused write " +
    "are not tried either, and come back as such once there is room",
  ignore: !TMPFS,
  fn: async () => {
    const tree = randomFiles(20, 100_000);
    using fx = makeFixture(tree);
    // Named to come after every file: restored once the disk is full, they would fit.
    Deno.linkSync(join(fx.source, "f1.bin"), join(fx.source, "zz-link.bin"));
    Deno.symlinkSync("f1.bin", join(fx.source, "zz-symlink"));
    assert.equal((await fx.cli("run")).code, 0);
    await onSmallDisk(fx, "size=1m", async (mnt) => {
      const to = join(mnt, "out");
      const full = await fx.cli("restore", "--to", to);
      assert.equal(full.code, 1, full.stdout + full.stderr);
      const c = stopLine(full, to);
      assert.equal(c.restored + c.notRestored, 22);
      assert.equal(c.notTried, c.notRestored - 1);
      const names = namesUnder(to);
      assert.equal(names.length, c.restored, names.join(" "));
      assert.ok(names.includes("f1.bin") && !names.some((n) => n.startsWith("zz-")), names.join());

      assert.ok(await succeeds("mount", "-o", "remount,size=8m", mnt));
      const again = await fx.cli("restore", "--to", to);
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.match(
        again.stdout,
        /^RESTORED: source\/zz-link\.bin \(v1\) → .* \(a hard link of '.*f1\.bin'\)$/m,
      );
      assert.equal(
        Deno.statSync(join(to, "zz-link.bin")).ino,
        Deno.statSync(join(to, "f1.bin")).ino,
      );
      assert.equal(Deno.readLinkSync(join(to, "zz-symlink")), "f1.bin");
    });
  },
});

Deno.test("restore: a failure that is not the disk's but names a path saying so (a folder in the way at 'No space left on device.txt') stops nothing", async () => {
  const tree: Tree = { "No space left on device.txt": "a\n" };
  for (let i = 1; i <= 5; i++) tree[`z${i}.txt`] = `z${i}\n`;
  using fx = makeFixture(tree);
  assert.equal((await fx.cli("run")).code, 0);
  const to = join(fx.dir, "out");
  Deno.mkdirSync(join(to, "No space left on device.txt"), { recursive: true });
  const out = await fx.cli("restore", "--to", to);
  assert.equal(out.code, 1, out.stdout + out.stderr);
  assert.doesNotMatch(out.stdout, /Restore stopped/, out.stdout);
  assert.match(
    out.stderr,
    /^NOT RESTORED: .*No space left on device\.txt.*a folder is in the way/m,
  );
  assert.match(out.stdout, /^Restore incomplete: 5 restored, 0 up to date, 1 not restored$/m);
  for (let i = 1; i <= 5; i++) {
    assert.equal(Deno.readTextFileSync(join(to, `z${i}.txt`)), `z${i}\n`);
  }
});

Deno.test({
  name: "restore onto a full disk, as its owner: a folder recorded read-only (0555) keeps its " +
    "owner's write permission while files are left in it, so the same restore run again completes",
  ignore: !TMPFS,
  fn: async () => {
    const tree: Record<string, string> = {};
    for (let i = 1; i <= 10; i++) tree[`ro/f${i}.txt`] = `${i}`.padEnd(100_000, "x");
    await unprivileged(tree, async ({ fx, run }) => {
      Deno.chmodSync(join(fx.source, "ro"), 0o555); // a Go module cache's folders are so
      assert.equal((await run("run")).code, 0);
      await onSmallDisk(fx, `size=512k,uid=${NOBODY},gid=${NOBODY},mode=755`, async (mnt) => {
        const to = join(mnt, "out");
        const full = await run("restore", "--to", to);
        assert.equal(full.code, 1, full.stdout + full.stderr);
        const c = stopLine(full, to);
        assert.ok(c.restored > 0 && c.notRestored > 0, full.stdout);
        // Its recorded mode but for the owner's write permission, for the restore again.
        assert.equal(Deno.statSync(join(to, "ro")).mode! & 0o777, 0o755);
        assert.ok(await succeeds("mount", "-o", "remount,size=8m", mnt));
        const again = await run("restore", "--to", to);
        assert.equal(again.code, 0, again.stdout + again.stderr);
        assert.match(
          again.stdout,
          new RegExp(`^Restore complete: ${c.notRestored} restored, ${c.restored} up to date`, "m"),
        );
        for (const [name, text] of Object.entries(tree)) {
          assert.equal(Deno.readTextFileSync(join(to, name)), text);
        }
      });
    });
  },
});

Deno.test({
  name: "restore onto a disk out of inodes: folders made on the way to one it could not make " +
    "get their recorded mode, and keep it once the same restore completes",
  ignore: !TMPFS,
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n", "p/q/r/s.txt": "s\n" });
    Deno.chmodSync(join(fx.source, "p"), 0o700); // private: ~/.gnupg, say
    assert.equal((await fx.cli("run")).code, 0);
    // The mount's root, out/, a.txt, p and p/q: p/q/r finds no inode.
    await onSmallDisk(fx, "nr_inodes=5", async (mnt) => {
      const to = join(mnt, "out");
      Deno.mkdirSync(to);
      const full = await fx.cli("restore", "--to", to);
      assert.equal(full.code, 1, full.stdout + full.stderr);
      assert.equal(stopLine(full, to).restored, 1);
      assert.deepEqual(namesUnder(to), ["a.txt", "p", "p/q"]);
      assert.ok(await succeeds("mount", "-o", "remount,nr_inodes=100", mnt));
      const again = await fx.cli("restore", "--to", to);
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.equal(Deno.readTextFileSync(join(to, "p/q/r/s.txt")), "s\n");
      assert.equal(Deno.statSync(join(to, "p")).mode! & 0o777, 0o700);
    });
  },
});

Deno.test({
  name: "restore onto a full disk: files after the stop already there with their content are " +
    "up to date, not 'not tried' (they need no room)",
  ignore: !TMPFS,
  fn: async () => {
    const tree = randomFiles(10, 100_000);
    using fx = makeFixture(tree);
    assert.equal((await fx.cli("run")).code, 0);
    await onSmallDisk(fx, "size=1m", async (mnt) => {
      const to = join(mnt, "out");
      Deno.mkdirSync(to);
      // f2 to f10 there already; f1, first in the restore's order, is missing, and the disk
      // has no room for it.
      for (let i = 2; i <= 10; i++) {
        Deno.writeFileSync(join(to, `f${i}.bin`), tree[`f${i}.bin`] as Uint8Array);
      }
      Deno.writeFileSync(join(mnt, "filler"), new Uint8Array(64 * 1024)); // leaves < 100 kB
      const full = await fx.cli("restore", "--to", to);
      assert.equal(full.code, 1, full.stdout + full.stderr);
      assert.deepEqual(stopLine(full, to), {
        restored: 0,
        upToDate: 9,
        notRestored: 1,
        notTried: 0,
      });
    });
  },
});
