/**
 * The backup root's state folder (`.backup-tool/`) holding a symlink, or something of
 * another kind, where the tool keeps its own entries: whoever can write the backup root
 * (a disk mounted as a user's, which root backs up to) could otherwise make root's next
 * run empty a folder elsewhere (the clean-up of `tmp`), truncate a file elsewhere (`lock`)
 * or fill one with zeros (`reserve`). Every writer refuses it with exit 2, naming the
 * entry, and what the entries point to stays byte for byte as it was.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Fixture, makeFixture, readTree, writeTree } from "../helpers.ts";

const PRECIOUS = { "f.txt": "keep me\n", "sub/g.txt": "keep me too\n" };

async function refused(fx: Fixture, entry: string, outside: string, ...args: string[]) {
  const r = await fx.cli(...args);
  const named = entry === "" ? "'.backup-tool'" : `'.backup-tool/${entry}'`;
  assert.equal(r.code, 2, `${entry} ${args}: ${r.stdout}${r.stderr}`);
  assert.ok(r.stderr.includes(`${named} is a symlink to '`), r.stderr);
  assert.match(r.stderr, /remove the symlink \(what it points to is left alone\)/);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.deepEqual(readTree(outside), PRECIOUS, `${entry} ${args}: the target was changed`);
}

Deno.test({
  name: "state folder: a symlink in place of tmp, lock, reserve or the folder itself is refused",
  ignore: Deno.build.os === "windows", // symlinks need a privilege there
  fn: async () => {
    for (const entry of ["tmp", "lock", "reserve", "state.db", ""]) {
      // A new backup root, and one holding a backup (which verify --repair needs).
      for (const existing of [false, true]) {
        if (existing && (entry === "" || entry === "state.db")) continue; // no state to read
        using fx = makeFixture({ "a.txt": "a\n" });
        const outside = join(fx.dir, "precious");
        writeTree(outside, PRECIOUS);
        if (existing) assert.equal((await fx.cli("run")).code, 0);
        const stateDir = join(fx.backup, ".backup-tool");
        Deno.mkdirSync(fx.backup, { recursive: true });
        if (entry === "") Deno.symlinkSync(outside, stateDir);
        else {
          Deno.mkdirSync(stateDir, { recursive: true });
          if (existing) Deno.removeSync(join(stateDir, entry), { recursive: true });
          const to = entry === "tmp" ? outside : join(outside, "f.txt");
          Deno.symlinkSync(to, join(stateDir, entry));
        }
        await refused(fx, entry, outside, "run");
        if (existing) await refused(fx, entry, outside, "verify", "--repair");
        if (!existing) {
          assert.deepEqual([...Deno.readDirSync(fx.backup)].map((e) => e.name), [".backup-tool"]);
        }
      }
    }
  },
});

Deno.test("state folder: a folder where the lock file goes is refused before anything is made", async () => {
  using fx = makeFixture({ "a.txt": "a\n" });
  Deno.mkdirSync(join(fx.backup, ".backup-tool", "lock"), { recursive: true });
  const r = await fx.cli("run");
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /'\.backup-tool\/lock' is a folder, where this tool keeps a file/);
  assert.match(r.stderr, /move it out of the backup root/);
  // Nothing made: no tmp folder, no state, no log.
  assert.deepEqual([...Deno.readDirSync(join(fx.backup, ".backup-tool"))].map((e) => e.name), [
    "lock",
  ]);
  assert.deepEqual(fx.logLines(), []);
  // Once it is moved away, the run goes on as usual.
  Deno.removeSync(join(fx.backup, ".backup-tool", "lock"));
  assert.equal((await fx.cli("run")).code, 0);
  assert.equal(Deno.readTextFileSync(join(fx.backup, "a.txt")), "a\n");
});

Deno.test("state folder: a hard link in place of the state or the lock (a 'cp -al' snapshot) is refused, both names left whole", async () => {
  using fx = makeFixture({ "a.txt": "a\n" });
  assert.equal((await fx.cli("run")).code, 0);
  const snap = join(fx.dir, "snap");
  const cp = await new Deno.Command("cp", { args: ["-al", fx.backup, snap] }).output();
  assert.ok(cp.success);
  const db = join(snap, ".backup-tool", "state.db");
  const before = Deno.readFileSync(db);
  writeTree(fx.source, { "a.txt": "a2\n", "b.txt": "b\n" });
  const r = await fx.cli("run");
  assert.equal(r.code, 2, r.stderr);
  // Every linked entry is named at once, not one a run.
  assert.match(
    r.stderr,
    /'\.backup-tool\/lock', '\.backup-tool\/reserve', '\.backup-tool\/state\.db' have other names \(hard links\)/,
  );
  assert.deepEqual(Deno.readFileSync(db), before, "the snapshot's state changed");
  // A link only to a file outside: the lock truncated it before.
  Deno.removeSync(snap, { recursive: true });
  const victim = join(fx.dir, "victim");
  Deno.writeTextFileSync(victim, "keep me\n");
  Deno.removeSync(join(fx.backup, ".backup-tool", "lock"));
  Deno.linkSync(victim, join(fx.backup, ".backup-tool", "lock"));
  const again = await fx.cli("run");
  assert.equal(again.code, 2, again.stderr);
  assert.match(again.stderr, /'\.backup-tool\/lock' has other names/);
  assert.equal(Deno.readTextFileSync(victim), "keep me\n");
});

Deno.test({
  name:
    "state folder: a FIFO in place of the state stops every reader at once (exit 2), never a hang",
  ignore: Deno.build.os === "windows", // no FIFOs there
  fn: async () => {
    using fx = makeFixture({ "a.txt": "a\n" });
    assert.equal((await fx.cli("run")).code, 0);
    const db = join(fx.backup, ".backup-tool", "state.db");
    Deno.removeSync(db);
    const made = await new Deno.Command("mkfifo", { args: [db] }).output();
    assert.ok(made.success);
    const cases = [["plan"], ["history", "a.txt"], ["verify"], ["restore", "--to", fx.dir]];
    for (const args of cases) {
      const r = await fx.cli(...args); // a hang would time the test out
      assert.equal(r.code, 2, `${args}: ${r.stderr}`);
      assert.match(r.stderr, /'\.backup-tool\/state\.db' is a special file \(a FIFO/);
    }
  },
});
