/**
 * End-to-end tests of `restore PATH --to -` through the real CLI: one file's content on
 * standard output, byte for byte (the latest, --at, --version, --backup-root), every line
 * on stderr; a damaged stored copy read from another copy of the same bytes, or refused
 * with nothing written; a copy too large to hold found damaged once written said as damaged
 * output; the options that mean nothing there refused (exit 2) with nothing done; a 20 MiB
 * file streamed in bounded memory; a reader gone (`| head -c 10`) ends it quietly; no lock
 * taken, a run holding the backup root meanwhile. Writes only in the fixtures' temporary
 * folders.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, poll, toolCommand } from "./helpers.ts";
import { killAndWait, spawnTool } from "./reliability/util.ts";
import { ok, put, type Raw, raw, rawIn } from "./restore_helpers.ts";

const text = (r: Raw) => new TextDecoder().decode(r.stdout);

/** Bytes that are no text: every byte value, then a seeded pseudo-random tail. */
function binary(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let x = 2463534242;
  for (let i = 0; i < size; i++) {
    if (i < 256) bytes[i] = i;
    else {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      bytes[i] = x & 0xff;
    }
  }
  return bytes;
}

Deno.test("restore --to - writes the latest content, --at an older one, --version N, nothing else on stdout", async () => {
  using fx = makeFixture({});
  put(fx.source, { "notes/todo.txt": "one\n" });
  await ok(fx, "run");
  await new Promise((r) => setTimeout(r, 5));
  const between = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 5));
  put(fx.source, { "notes/todo.txt": "one\ntwo\n" });
  await ok(fx, "run");
  const latest = await raw(fx, "restore", "notes/todo.txt", "--to", "-");
  assert.equal(latest.code, 0, latest.stderr);
  assert.equal(text(latest), "one\ntwo\n");
  assert.match(
    latest.stderr,
    /^Restore complete: source\/notes\/todo\.txt \(v2\), 8 B, written to standard output\n$/,
  );
  const at = await raw(fx, "restore", "notes/todo.txt", "--at", between, "--to", "-");
  assert.equal(at.code, 0, at.stderr);
  assert.equal(text(at), "one\n");
  assert.match(at.stderr, /^Restore complete \(as of \S+Z\): source\/notes\/todo\.txt \(v1\)/);
  const version = await raw(fx, "restore", "notes/todo.txt", "--version", "1", "--to", "-", "-q");
  assert.deepEqual([version.code, text(version), version.stderr], [0, "one\n", ""]);
  // Nothing written anywhere else: no file or folder '-', the source as it was.
  assert.deepEqual([...Deno.readDirSync(fx.dir)].map((e) => e.name).sort(), [
    "backup",
    "config.jsonc",
    "logs",
    "source",
  ]);
  // The backup alone (no config), as after losing the computer.
  const bare = await rawIn(fx.dir, [
    "restore",
    "notes/todo.txt",
    "--to",
    "-",
    "--backup-root",
    fx.backup,
  ]);
  assert.equal(bare.code, 0, bare.stderr);
  assert.equal(text(bare), "one\ntwo\n");
  // Not found, or not there at the moment asked: the normal restore's line and exit code.
  const early = await raw(fx, "restore", "notes/todo.txt", "--at", "2000-01-01", "--to", "-");
  assert.equal(early.code, 1);
  assert.equal(early.stdout.length, 0);
  assert.match(
    early.stderr,
    /^NOT RESTORED: notes\/todo\.txt: 'source\/notes\/todo\.txt' is not in the backup as of 2000-01-01T\S+: it was first backed up at \S+: give that time or a later one to --at$/m,
  );
  const normal = await raw(fx, "restore", "notes/todo.txt", "--at", "2000-01-01", "--to", "r");
  assert.equal(normal.code, 1);
  assert.equal(
    early.stderr.split("\n")[0],
    normal.stderr.split("\n")[0],
    "the same line as the normal restore's",
  );
  const nope = await raw(fx, "restore", "nope.txt", "--to", "-");
  assert.equal(nope.code, 1);
  assert.match(nope.stderr, /^NOT RESTORED: nope\.txt: 'source\/nope\.txt' is not in the backup$/m);
});

Deno.test("restore --to - of binary content is byte-exact, an empty file is no bytes", async () => {
  using fx = makeFixture({});
  const bytes = binary(300_000);
  put(fx.source, { "db.dump": bytes, "empty": "" });
  await ok(fx, "run");
  const r = await raw(fx, "restore", "db.dump", "--to", "-", "-q");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  assert.deepEqual(r.stdout, bytes);
  const empty = await raw(fx, "restore", "empty", "--to", "-", "-q");
  assert.deepEqual([empty.code, empty.stdout.length, empty.stderr], [0, 0, ""]);
});

Deno.test("restore --to - of a damaged stored copy: read from another copy of the same bytes, else nothing written", async () => {
  using fx = makeFixture({});
  put(fx.source, { "A": "thesis chapter 1\n", "copy_of_A": "thesis chapter 1\n", "B": "b only\n" });
  await ok(fx, "run");
  // Damaged in place, at its recorded size: only its digest tells.
  Deno.writeTextFileSync(join(fx.backup, "A"), "thesis chapter 2\n");
  const r = await raw(fx, "restore", "A", "--to", "-");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(text(r), "thesis chapter 1\n");
  assert.match(
    r.stderr,
    /^WARNING: source\/A \(v1\): its copy 'A' is missing or damaged: read from '_duplicates\/copy_of_A', which holds the same content; run 'verify --repair --config \S+'$/m,
  );
  Deno.writeTextFileSync(join(fx.backup, "B"), "b onlx\n"); // no other copy holds it
  const none = await raw(fx, "restore", "B", "--to", "-");
  assert.equal(none.code, 1);
  assert.equal(none.stdout.length, 0, "not a byte of a damaged copy");
  assert.match(
    none.stderr,
    /^NOT RESTORED: source\/B \(v1\): the stored copy '.*B' does not match its recorded sha256 digest/m,
  );
  assert.match(none.stderr, /^Restore incomplete: nothing was written to standard output$/m);
  Deno.removeSync(join(fx.backup, "B")); // missing altogether
  const missing = await raw(fx, "restore", "B", "--to", "-", "-q");
  assert.equal(missing.code, 1);
  assert.equal(missing.stdout.length, 0);
  assert.match(missing.stderr, /the stored copy '.*B' is missing: run 'verify --config \S+'/);
});

Deno.test("restore --to - refuses a folder, a symlink and the options that mean nothing there, changing nothing", async () => {
  using fx = makeFixture({});
  put(fx.source, { "docs/a.txt": "a\n", "docs/b.txt": "b\n" });
  Deno.symlinkSync("docs/a.txt", join(fx.source, "link"));
  await ok(fx, "run");
  const cases: [string[], RegExp][] = [
    [
      ["docs"],
      /^Cannot write 'docs' to standard output \(--to -\): it is a folder: give one file's PATH, or restore the folder with --to DIR$/m,
    ],
    [["."], /it is a folder/],
    [["link"], /^Cannot write 'link' to standard output \(--to -\): it is a symlink/],
    [[], /^Cannot use --to - without a PATH: .*give that file's PATH/],
    [["docs/a.txt", "docs/b.txt"], /^Cannot use several PATHs with --to -: .*give one file's PATH/],
    [["docs/a.txt", "--json"], /^Cannot use --json with --to -: .*drop --json/],
    [["docs/a.txt", "--include", "*.txt"], /^Cannot use --include with --to -/],
    [["docs/a.txt", "--exclude", "*.md"], /^Cannot use --exclude with --to -/],
    [["docs/a.txt", "--overwrite"], /^Cannot use --overwrite with --to -: .*drop --overwrite/],
    [["docs/a.txt", "--dry-run"], /^Cannot use --dry-run with --to -: .*drop --dry-run/],
    [["docs/a.txt", "-n"], /^Cannot use --dry-run with --to -/],
  ];
  const before = [...Deno.readDirSync(fx.dir)].map((e) => e.name).sort();
  for (const [args, pattern] of cases) {
    const r = await raw(fx, "restore", ...args, "--to", "-");
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout.length, 0, args.join(" "));
    assert.match(r.stderr, pattern, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split("\n").length, 1, `one line: ${r.stderr}`);
  }
  assert.deepEqual([...Deno.readDirSync(fx.dir)].map((e) => e.name).sort(), before);
  // A folder named '-' is reached as ./-, as with tar and curl.
  const dashed = await raw(fx, "restore", "docs/a.txt", "--to", "./-", "-q");
  assert.equal(dashed.code, 0, dashed.stderr);
  assert.equal(Deno.readTextFileSync(join(fx.dir, "-", "docs", "a.txt")), "a\n");
});

Deno.test("restore --to - of a folder not there at the moment asked: the normal restore's NOT RESTORED line, exit 1", async () => {
  using fx = makeFixture({});
  put(fx.source, { "a.txt": "a\n" });
  await ok(fx, "run");
  await new Promise((r) => setTimeout(r, 5));
  const before = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 5));
  put(fx.source, { "later/b.txt": "b\n", "gone/c.txt": "c\n" });
  await ok(fx, "run");
  const between = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 5));
  Deno.removeSync(join(fx.source, "gone"), { recursive: true });
  await ok(fx, "run");
  // Made after the moment asked, or deleted before the latest backup: no folder then.
  for (const args of [["later", "--at", before], ["gone"], ["gone", "--at", before]]) {
    const r = await raw(fx, "restore", ...args, "--to", "-");
    const normal = await raw(fx, "restore", ...args, "--to", "r");
    assert.equal(normal.code, 1, normal.stderr);
    assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout.length, 0);
    assert.equal(r.stderr.split("\n")[0], normal.stderr.split("\n")[0], args.join(" "));
    assert.match(r.stderr, /^Restore incomplete.*: nothing was written to standard output$/m);
  }
  // A folder at the moment asked: refused, the moment said.
  const folder = await raw(fx, "restore", "gone", "--at", between, "--to", "-");
  assert.equal(folder.code, 2, folder.stderr);
  assert.match(
    folder.stderr,
    /^Cannot write 'gone' to standard output \(--to -\): it is a folder as of \S+Z: give one file's PATH/,
  );
});

/** A stored file's read position in a process (Linux's /proc), undefined if it is not open. */
function readPosition(pid: number, stored: string): number | undefined {
  for (const e of Deno.readDirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = Deno.readLinkSync(`/proc/${pid}/fd/${e.name}`);
    } catch {
      continue;
    }
    if (target !== stored) continue;
    const info = Deno.readTextFileSync(`/proc/${pid}/fdinfo/${e.name}`);
    return Number(info.match(/^pos:\s+(\d+)/m)![1]);
  }
  return undefined;
}

/** A process's peak resident memory so far, in bytes (Linux's /proc). */
function peakMemory(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(status.match(/^VmHWM:\s+(\d+) kB/m)![1]) * 1024;
}

Deno.test({
  name:
    "restore --to - streams a 20 MiB file in bounded memory, and one found damaged once written is said damaged",
  ignore: Deno.build.os !== "linux",
  async fn() {
    using fx = makeFixture({});
    const size = 20 * 1024 * 1024;
    const bytes = binary(size);
    put(fx.source, { "big.bin": bytes });
    await ok(fx, "run");
    const { cmd, args } = toolCommand(["restore", "big.bin", "--to", "-", "--config", fx.config]);
    const child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).spawn();
    const reader = child.stdout.getReader();
    const got = new Uint8Array(size + 1);
    let received = 0;
    let early: number | undefined;
    let peak = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      got.set(value.subarray(0, Math.min(value.length, got.length - received)), received);
      received += value.length;
      // Output began while the stored copy was still being read: streamed, not held whole.
      if (early === undefined && received >= 2 * 1024 * 1024) {
        early = readPosition(child.pid, join(fx.backup, "big.bin"));
      }
      // Its last write waits on this reader: everything was read by then.
      if (received >= size - 512 * 1024 && peak === 0) peak = peakMemory(child.pid);
    }
    const status = await child.status;
    const stderr = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
    assert.equal(status.code, 0, stderr);
    assert.equal(received, size);
    assert.deepEqual(got.subarray(0, size), bytes);
    assert.ok(early !== undefined && early < size, `read position when output began: ${early}`);
    // Deno itself takes about 60 MiB here; a copy held whole would add 20 MiB or more.
    assert.ok(peak > 0 && peak < 100 * 1024 * 1024, `peak memory ${peak}`);
    // Damaged at its recorded size, past what is held: found once it was written out.
    const f = Deno.openSync(join(fx.backup, "big.bin"), { write: true });
    f.seekSync(15_000_000, Deno.SeekMode.Start);
    f.writeSync(new Uint8Array([bytes[15_000_000] ^ 1]));
    f.close();
    const damaged = await raw(fx, "restore", "big.bin", "--to", "-");
    assert.equal(damaged.code, 1);
    assert.match(
      damaged.stderr,
      /^ERROR: source\/big\.bin \(v1\): the output is damaged: its stored copy '.*big\.bin' does not match its recorded sha256 digest, found once \d+ bytes of it were written: discard them; restore it with --to DIR/m,
    );
  },
});

Deno.test("restore --to - into a pipe closed early (| head -c 10) ends quietly, exit 0", async () => {
  using fx = makeFixture({});
  put(fx.source, { "big.bin": binary(3 * 1024 * 1024), "small.txt": "0123456789abcdef\n" });
  await ok(fx, "run");
  for (const file of ["big.bin", "small.txt"]) {
    const { cmd, args } = toolCommand(["restore", file, "--to", "-", "--config", fx.config]);
    const child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).spawn();
    const reader = child.stdout.getReader();
    const { value } = await reader.read();
    assert.ok(value !== undefined && value.length > 0);
    await reader.cancel(); // the reader goes, as head does after 10 bytes
    const status = await child.status;
    const stderr = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
    assert.equal(status.code, 0, `${file}: ${stderr}`);
    assert.doesNotMatch(stderr, /error|panic|uncaught|\bat /i, file);
  }
});

Deno.test("restore --to - takes no lock: it reads while a run holds the backup root, which goes on", async () => {
  using fx = makeFixture({});
  put(fx.source, { "a.txt": "a1\n" });
  await ok(fx, "run");
  put(fx.source, { "a.txt": "a2\n" });
  const paused = join(fx.dir, "paused");
  const run = spawnTool(["run", "-q", "--config", fx.config], {
    env: { BACKUP_TOOL_PAUSE: `locked:1:${paused}` },
  });
  try {
    await poll("the run to hold the lock", () => {
      try {
        return Deno.statSync(paused).isFile;
      } catch {
        return false;
      }
    });
    const r = await raw(fx, "restore", "a.txt", "--to", "-");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(text(r), "a1\n");
    assert.match(r.stderr, /^WARNING: a run \(pid \d+ .*\) is changing the backup now/m);
    Deno.removeSync(paused);
    const out = await run.output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  } finally {
    await killAndWait(run);
  }
  assert.equal(text(await raw(fx, "restore", "a.txt", "--to", "-", "-q")), "a2\n");
});
