/**
 * A file replaced by a FIFO, or by a symlink to one, between the walk and its read. An
 * open of a FIFO waits for a writer, so such a run used to hang for good, holding the
 * lock; now the file is opened without waiting and without following a symlink: it is
 * reported as replaced, the rest is stored, and the next run goes on. A stored copy
 * replaced by a FIFO does not hold `verify` up either. The run is held at a pause point
 * (BACKUP_TOOL_PAUSE) while the first changed file is read: an incremental run has walked
 * the folder by then (a first backup reads each file as the walk meets it).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture } from "../helpers.ts";
import { killAndWait, pausedRun, runTool } from "./util.ts";

const MiB = 1 << 20;
/** Generous: a hang is what is tested; a run of three files takes well under a second. */
const FINISH_MS = 30_000;

/** The child's output, or a failure naming the hang once FINISH_MS pass. */
async function finished(child: Deno.ChildProcess, what: string) {
  const timer = setTimeout(() => killAndWait(child), FINISH_MS);
  try {
    const out = await child.output();
    assert.ok(out.signal === null, `${what}: the run hung and was killed`);
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}

function mkfifo(path: string): void {
  const r = new Deno.Command("mkfifo", { args: [path] }).outputSync();
  assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
}

/** Swaps `b.txt` for a FIFO (`direct`) or a symlink to one while `a.bin` is read. */
async function runWithSwap(fx: ReturnType<typeof makeFixture>, how: "fifo" | "symlink") {
  const b = join(fx.source, "b.txt");
  const { child, resume } = await pausedRun(["run", "--config", fx.config], "reading:1", fx.dir);
  Deno.removeSync(b);
  if (how === "fifo") mkfifo(b);
  else {
    mkfifo(join(fx.dir, "pipe"));
    Deno.symlinkSync(join(fx.dir, "pipe"), b);
  }
  resume();
  return await finished(child, how);
}

for (const how of ["fifo", "symlink"] as const) {
  Deno.test({
    name: `a changed file replaced by a ${how === "fifo" ? "FIFO" : "symlink to a FIFO"} ` +
      "before the run reads it: reported, the rest stored, the next run finishes",
    ignore: Deno.build.os === "windows",
    fn: async () => {
      // Two reads of a.bin (1 MiB each): the pause falls after the first.
      using fx = makeFixture({ "a.bin": new Uint8Array(2 * MiB).fill(7), "b.txt": "b\n" });
      assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
      Deno.writeFileSync(join(fx.source, "a.bin"), new Uint8Array(2 * MiB).fill(8));
      Deno.writeTextFileSync(join(fx.source, "b.txt"), "b, longer\n");
      const r = await runWithSwap(fx, how);
      assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, /source\/b\.txt: .*replaced/);
      assert.equal(Deno.readFileSync(join(fx.backup, "a.bin"))[0], 8);
      assert.equal(Deno.readTextFileSync(join(fx.backup, "b.txt")), "b\n", "the last copy stays");
      // The next run sees the FIFO or symlink for what it is, and finishes.
      const next = await runTool(["run", "--config", fx.config], { timeoutMs: FINISH_MS });
      assert.ok(next.code === 0 || next.code === 1, next.stderr);
    },
  });
}

Deno.test({
  name: "verify names a stored copy replaced by a FIFO as missing, without waiting on it",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    using fx = makeFixture({ "b.txt": "b\n" });
    assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
    Deno.removeSync(join(fx.backup, "b.txt"));
    mkfifo(join(fx.backup, "b.txt"));
    const r = await runTool(["verify", "--config", fx.config], { timeoutMs: FINISH_MS });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /MISSING: b\.txt/);
  },
});

Deno.test({
  name: "restore takes a stored copy replaced by a FIFO for missing, without waiting on it",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    using fx = makeFixture({ "b.txt": "b\n", "c.txt": "c\n" });
    assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
    Deno.removeSync(join(fx.backup, "b.txt"));
    mkfifo(join(fx.backup, "b.txt"));
    const out = join(fx.dir, "out");
    const r = await runTool(["restore", "--to", out, "--config", fx.config], {
      timeoutMs: FINISH_MS,
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /b\.txt.*missing/);
    assert.equal(Deno.readTextFileSync(join(out, "c.txt")), "c\n");
  },
});

Deno.test({
  name: "after a hash algorithm change, a stored copy replaced by a symlink is not followed: " +
    "the file is copied again, and the next run is clean",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    using fx = makeFixture({ "a.txt": "hello\n", "b.txt": "other\n" });
    assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
    const text = Deno.readTextFileSync(fx.config).replace(
      /\}\s*$/,
      ', "hash_algorithm": "sha512"}',
    );
    Deno.writeTextFileSync(fx.config, text);
    Deno.removeSync(join(fx.backup, "a.txt"));
    Deno.symlinkSync(join(fx.source, "b.txt"), join(fx.backup, "a.txt"));
    const r = await runTool(["run", "--config", fx.config]);
    assert.equal(r.code, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /ERROR/);
    assert.equal((await runTool(["run", "--config", fx.config])).code, 0);
  },
});
