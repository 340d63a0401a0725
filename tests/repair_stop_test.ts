/**
 * `verify --repair` stopped by a signal (Ctrl-C, a unit's stop, a closed terminal) ends
 * between two copies: the copies made again stay made, the session is recorded stopped and
 * the lock released (the next run says nothing of a killed one), exit 128 + the signal's
 * number, and a repair again finishes the rest. Paused (BACKUP_TOOL_PAUSE, point
 * `repairing`) before its second copy, so the signal comes mid-repair every time.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, makeFixture, poll, toolCommand } from "./helpers.ts";

const FILES = 200;

/**
 * `verify --repair` held at the `n`-th pause point `point`, sent `signal` there (after the
 * pause has lasted `heldMs`: past the 250 ms between two turns of the event loop, where a
 * stop is heard inside a copy), then let go; its exit code and output.
 */
async function stoppedAt(
  fx: Fixture,
  where: { point: string; n: number; signal: Deno.Signal; heldMs?: number },
): Promise<{ code: number; stdout: string; stderr: string }> {
  const paused = join(fx.dir, "paused");
  const { cmd, args } = toolCommand(["verify", "--repair", "--config", fx.config]);
  const child = new Deno.Command(cmd, {
    args,
    env: { NO_COLOR: "1", BACKUP_TOOL_PAUSE: `${where.point}:${where.n}:${paused}` },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  await poll(`the repair to pause at '${where.point}'`, () => {
    try {
      return Deno.statSync(paused).isFile;
    } catch {
      return false;
    }
  });
  child.kill(where.signal);
  // A lower bound on the pause's length, not a wait for a result.
  if (where.heldMs) await new Promise((r) => setTimeout(r, where.heldMs));
  Deno.removeSync(paused);
  const out = await child.output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

for (const [signal, code] of [["SIGTERM", 143], ["SIGINT", 130]] as const) {
  Deno.test(`verify --repair stopped by ${signal} between two copies: exit ${code}, the lock released, the rest repaired by the next repair`, async () => {
    const tree: Record<string, string> = {};
    for (let i = 0; i < FILES; i++) tree[`d/f${i}.txt`] = `content ${i}\n`;
    using fx = makeFixture(tree);
    assert.equal((await fx.cli("run")).code, 0);
    Deno.removeSync(join(fx.backup, "d"), { recursive: true }); // every copy missing

    const { code: exit, stdout, stderr } = await stoppedAt(fx, {
      point: "repairing",
      n: 2,
      signal,
    });
    assert.equal(exit, code, stderr);
    assert.match(
      stderr,
      /^Verify stopped before it finished: the copies made again stay made; run 'verify --repair --config \S+' again to check and repair the rest$/m,
    );
    assert.match(
      stderr,
      new RegExp(`^Stopping in a moment \\(${signal}\\); a second signal stops at once$`, "m"),
    );
    const made = stdout.split("\n").filter((l) => l.startsWith("REPAIRED: ")).length;
    assert.ok(made >= 1 && made < FILES, `${made} copies made before the stop`);
    assert.equal(Deno.readTextFileSync(join(fx.backup, ".backup-tool", "lock")), "");

    const history = await fx.cli("history");
    assert.match(history.stdout, /^2 +repair +\S+ +\S+ +stopped /m);
    const again = await fx.cli("verify", "--repair");
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /did not finish/); // not taken for a killed session
    assert.equal((await fx.cli("verify")).code, 0);
    const run = await fx.cli("run");
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "");
    assert.equal(Deno.readTextFileSync(join(fx.backup, "d", "f7.txt")), "content 7\n");
  });
}

Deno.test("verify --repair stopped while it re-hashes a large copy: exit 143 there, not once the copy is read to its end", async () => {
  using fx = makeFixture({});
  // 64 MiB, sparse: 64 blocks read, the stop asked for at the second.
  using big = Deno.openSync(join(fx.source, "big.bin"), { write: true, create: true });
  big.truncateSync(64 << 20);
  assert.equal((await fx.cli("run")).code, 0);

  const out = await stoppedAt(fx, { point: "rehashing", n: 2, signal: "SIGTERM", heldMs: 300 });
  const stderr = out.stderr;
  // The only copy: read to its end, the repair had nothing left to stop and ended exit 0.
  assert.equal(out.code, 143, stderr);
  assert.match(stderr, /^Verify stopped before it finished: /m);
  assert.equal(Deno.readTextFileSync(join(fx.backup, ".backup-tool", "lock")), "");
  assert.match((await fx.cli("history")).stdout, /^2 +repair +\S+ +\S+ +stopped /m);
});

Deno.test("verify --repair stopped while it makes a large copy again: exit 143 there, the copy left for the next repair", async () => {
  using fx = makeFixture({});
  using big = Deno.openSync(join(fx.source, "big.bin"), { write: true, create: true });
  big.truncateSync(64 << 20);
  assert.equal((await fx.cli("run")).code, 0);
  Deno.removeSync(join(fx.backup, "big.bin")); // made again from the source, 64 blocks

  const out = await stoppedAt(fx, { point: "reading", n: 2, signal: "SIGTERM", heldMs: 300 });
  const stderr = out.stderr;
  // The only copy: made to its end, the repair had nothing left to stop and ended exit 0.
  assert.equal(out.code, 143, stderr);
  assert.match(stderr, /^Verify stopped before it finished: /m);
  assert.equal(Deno.readTextFileSync(join(fx.backup, ".backup-tool", "lock")), "");
  const tmp = [...Deno.readDirSync(join(fx.backup, ".backup-tool", "tmp"))].map((e) => e.name);
  assert.deepEqual(tmp, []); // the partial copy removed
  const again = await fx.cli("verify", "--repair");
  assert.equal(again.code, 0, again.stderr);
  assert.equal(Deno.statSync(join(fx.backup, "big.bin")).size, 64 << 20);
});

Deno.test("verify --repair stopped while it lists the backup root: exit 143 there, not once the walk is done", async () => {
  const tree: Record<string, string> = {};
  for (let i = 0; i < 5; i++) tree[`d${i}/f.txt`] = `content ${i}\n`;
  using fx = makeFixture(tree);
  assert.equal((await fx.cli("run")).code, 0);

  const out = await stoppedAt(fx, { point: "listing", n: 2, signal: "SIGTERM", heldMs: 300 });
  const stderr = out.stderr;
  // The walk to its end (a million files: half a minute), then the check of these five in
  // less than a turn's 250 ms, and the repair with nothing to do ended exit 0.
  assert.equal(out.code, 143, stderr);
  assert.match(stderr, /^Verify stopped before it finished: /m);
  assert.equal(Deno.readTextFileSync(join(fx.backup, ".backup-tool", "lock")), "");
});
