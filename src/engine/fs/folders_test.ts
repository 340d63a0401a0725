/**
 * The FFI folder reads must give exactly what Deno's readDir and lstat give, or
 * fingerprints recorded by one would not match the other's (every file would be read again after switching between
 * `deno run -A` and the compiled binary). Compared on every kind of entry and on times
 * Deno rounds in its own ways.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { denoFolders, denoStat, ffiFolders, type Folders, type StatResult } from "./folders.ts";
import { scanEntries } from "../scan/scan.ts";

const linux = Deno.build.os === "linux";

/** Runs `fn` with the FFI implementation and an empty temporary folder, then cleans up. */
async function withFfi(fn: (ffi: Folders, dir: string) => Promise<void>): Promise<void> {
  const ffi = ffiFolders();
  assert.ok(ffi, "FFI should be available on Linux with -A");
  const dir = Deno.makeTempDirSync();
  try {
    await fn(ffi, dir);
  } finally {
    ffi.close();
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test({
  name: "folders: FFI statx and Deno.lstatSync agree on every kind of entry",
  ignore: !linux,
  fn: () =>
    withFfi(async (ffi, dir) => {
      const file = (name: string, text = "data") => {
        Deno.writeTextFileSync(join(dir, name), text);
        return name;
      };
      const names = [
        file("plain.txt"),
        file("empty.txt", ""),
        file("space and ünïcode ✓.txt"),
        file("sub-ms.txt"),
        file("before-1970.txt"),
        file("before-1970-ns.txt"),
        file("far-future.txt"),
        "hard-link.txt",
        "link",
        "dangling",
        "folder",
        "pipe",
        "missing",
      ];
      // Times with sub-millisecond parts, before the epoch and beyond 2^32 seconds.
      Deno.utimeSync(join(dir, "sub-ms.txt"), 1712834713.1234567, 1712834713.4567891);
      Deno.utimeSync(join(dir, "before-1970.txt"), -1.2345, -0.0005);
      Deno.utimeSync(join(dir, "far-future.txt"), 5e9 + 0.5, 5e9 + 0.9999);
      // Nanoseconds before the epoch (seconds -2, nanoseconds 123456789): Deno cuts toward zero.
      const touch = new Deno.Command("touch", {
        args: ["-d", "1969-12-31 23:59:58.123456789 UTC", join(dir, "before-1970-ns.txt")],
      });
      assert.ok((await touch.output()).success);
      Deno.linkSync(join(dir, "plain.txt"), join(dir, "hard-link.txt")); // nlink 2, both ways
      Deno.symlinkSync("plain.txt", join(dir, "link"));
      Deno.symlinkSync("nowhere", join(dir, "dangling"));
      Deno.mkdirSync(join(dir, "folder"));
      const fifo = await new Deno.Command("mkfifo", { args: [join(dir, "pipe")] }).output();
      assert.ok(fifo.success);

      const viaFfi = statChildren(ffi, dir, names);
      const viaDeno = statChildren(denoFolders, dir, names);
      for (const [i, name] of names.entries()) {
        assert.deepEqual(shape(viaFfi[i]), shape(viaDeno[i]), name);
      }
      assert.equal((viaFfi[0] as StatResult).kind, "file");
      assert.equal((viaFfi[0] as StatResult).nlink, 2);
      assert.equal((viaFfi[names.indexOf("pipe")] as StatResult).kind, "fifo");
      assert.ok(viaFfi[names.indexOf("missing")] instanceof Deno.errors.NotFound);

      // Children of something that is not a folder, and of a folder that does not exist.
      for (const parent of ["plain.txt", "nothing-here"]) {
        const a = statChildren(ffi, join(dir, parent), ["x"]);
        const b = statChildren(denoFolders, join(dir, parent), ["x"]);
        assert.equal(errorKind(a[0]), errorKind(b[0]), parent);
      }

      // kindAt, by full path: the same kinds, and nothing where lstat fails.
      const looped = join(dir, "loop");
      Deno.symlinkSync("loop", looped);
      for (const name of [...names, "loop/x", "plain.txt/x", "nothing-here/x"]) {
        const abs = join(dir, name);
        const viaLstat = denoStat(abs);
        const expected = viaLstat instanceof Error ? undefined : viaLstat.kind;
        assert.equal(ffi.kindAt(abs), expected, name);
        assert.equal(denoFolders.kindAt(abs), expected, name);
      }
      assert.equal(ffi.kindAt(join(dir, "folder")), "dir");
      assert.equal(ffi.kindAt(join(dir, "link")), "symlink");
      assert.equal(ffi.kindAt(join(dir, "loop/x")), undefined);
    }),
});

Deno.test({
  name: "folders: FFI getdents64 lists the same names as Deno.readDirSync",
  ignore: !linux,
  fn: () =>
    withFfi(async (ffi, dir) => {
      // More names than one 32 KiB getdents64 buffer holds, folders, links, a FIFO, and a
      // name that is not valid UTF-8 (which both decode with U+FFFD).
      for (let i = 0; i < 3000; i++) Deno.writeTextFileSync(join(dir, `file-${i}.txt`), "");
      for (const d of ["a", "b/c", "ünï ✓"]) Deno.mkdirSync(join(dir, d), { recursive: true });
      Deno.symlinkSync("a", join(dir, "link-to-folder"));
      const made = await new Deno.Command("sh", {
        args: ["-c", `mkfifo "$1/pipe" && touch "$1/$(printf 'bad\\377name')"`, "sh", dir],
      }).output();
      assert.ok(made.success, new TextDecoder().decode(made.stderr));

      const viaFfi = ffi.listKeys(dir).sort();
      const viaDeno = denoFolders.listKeys(dir).sort();
      assert.equal(viaFfi.length, 3000 + 3 + 3); // files, folders, link + FIFO + bad name
      assert.deepEqual(viaFfi, viaDeno);
      assert.ok(viaFfi.includes("a/") && viaFfi.includes("link-to-folder"));
      assert.ok(viaFfi.some((k) => k.includes("\uFFFD")));
      assert.deepEqual(ffi.listKeys(join(dir, "b")), ["c/"]);
      for (const bad of ["file-1.txt", "missing"]) {
        assert.throws(() => ffi.listKeys(join(dir, bad)));
        assert.throws(() => denoFolders.listKeys(join(dir, bad)));
      }
    }),
});

function statChildren(folders: Folders, dir: string, names: string[]): (StatResult | Error)[] {
  const folder = folders.open(dir);
  try {
    return names.map((name) => folder.stat(name, join(dir, name)));
  } finally {
    folder.close();
  }
}

/**
 * Results compare by value, errors by class (their messages differ in wording); the change
 * time to the nanosecond, which only statx gives, must fall in the second both give.
 */
function shape(r: StatResult | Error): unknown {
  if (r instanceof Error) return errorKind(r);
  const { ctimeExact, ...rest } = r;
  if (ctimeExact !== undefined) assert.equal(Number(ctimeExact.split(".")[0]) * 1000, r.ctimeMs);
  return rest;
}

function errorKind(r: StatResult | Error): string {
  return r instanceof Error ? r.constructor.name : "ok";
}

Deno.test({
  name:
    "folders: a folder that is not the one its parent listed (swapped for a symlink) is refused",
  ignore: !linux,
  fn: () =>
    withFfi((ffi, dir) => {
      const real = join(dir, "real");
      const outside = join(dir, "outside");
      Deno.mkdirSync(real);
      Deno.mkdirSync(outside);
      Deno.writeTextFileSync(join(outside, "secret"), "not in the source");
      const parent = ffi.open(dir);
      const seen = parent.stat("real", real) as StatResult;
      const sameDir = parent.stat("outside", outside) as StatResult;
      parent.close();
      // The walk saw `real`; someone swaps it for a symlink to a folder outside.
      Deno.removeSync(real);
      Deno.symlinkSync(outside, real);
      for (const folders of [ffi, denoFolders]) {
        assert.throws(() => folders.listKeys(real, seen), /was replaced while being walked/);
        const opened = folders.open(real, seen);
        const child = opened.stat("secret", join(real, "secret"));
        opened.close();
        if (folders === ffi) assert.ok(child instanceof Error, "FFI: nothing statted through it");
      }
      // The same folder, unswapped, lists as usual.
      assert.deepEqual(ffi.listKeys(outside, sameDir), ["secret"]);
      return Promise.resolve();
    }),
});

Deno.test({
  name: "scan: a scoped pass never walks through a folder on the way swapped for a symlink",
  ignore: !linux,
  fn: () => {
    const dir = Deno.realPathSync(Deno.makeTempDirSync());
    try {
      const src = join(dir, "src");
      Deno.mkdirSync(join(src, "sub", "zz"), { recursive: true });
      Deno.writeTextFileSync(join(src, "sub", "zz", "mine"), "mine");
      Deno.mkdirSync(join(dir, "outside", "zz"), { recursive: true });
      Deno.writeTextFileSync(join(dir, "outside", "zz", "secret"), "secret");
      // An event for src/sub/zz is due; meanwhile `sub` is swapped for a symlink outside.
      Deno.renameSync(join(src, "sub"), join(src, "sub-old"));
      Deno.symlinkSync(join(dir, "outside"), join(src, "sub"));
      const unreadable: string[] = [];
      const problems: string[] = [];
      const paths = [...scanEntries([{ name: "s", path: src }], {
        exclude: [],
        skipDirs: [],
        scope: new Map([["s", [join(src, "sub", "zz")]]]),
        onProblem: (p) => problems.push(p.message),
      }, unreadable)].map((e) => e.path);
      assert.deepEqual(paths, []);
      assert.deepEqual(unreadable, ["s/sub/zz"]);
      assert.match(problems[0], /replaced by a symlink/);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
