/**
 * `restore --dry-run` as the unprivileged user `nobody` (unprivileged.ts: skipped, with a
 * message, when not root or when neither setpriv nor runuser exists): a destination folder
 * nobody may enter is refused in the words the restore run next uses, its remedy too; an
 * empty folder to make below one nobody may search is said once, as the restore warns of it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { unprivileged } from "./unprivileged.ts";
import { sh } from "./util.ts";

/** The reason after `<title>: source/d/b.txt (v1): ` in a restore's output. */
function reason(title: string, stderr: string): string {
  const line = stderr.split("\n").find((l) => l.startsWith(`${title}: source/d/b.txt (v1): `));
  assert.ok(line, stderr);
  return line.slice(`${title}: source/d/b.txt (v1): `.length);
}

Deno.test("restore --dry-run in place (as nobody) into a folder it may not enter: refused as the restore refuses it", async () => {
  await unprivileged({ "a.txt": "a\n", "d/b.txt": "b\n" }, async ({ fx, run }) => {
    assert.equal((await run("run")).code, 0, "backed up as nobody");
    Deno.removeSync(join(fx.source, "d", "b.txt"));
    await sh(`chown root '${join(fx.source, "d")}' && chmod 700 '${join(fx.source, "d")}'`);
    const dry = await run("restore", "--dry-run");
    const real = await run("restore");
    assert.equal(dry.code, 1, `${dry.stdout}\n${dry.stderr}`);
    assert.equal(real.code, 1, `${real.stdout}\n${real.stderr}`);
    assert.match(reason("NOT RESTORED", real.stderr), /^Cannot enter folder .*restore with --to/);
    assert.equal(reason("WOULD NOT RESTORE", dry.stderr), reason("NOT RESTORED", real.stderr));
  });
});

Deno.test("restore --dry-run --to (as nobody) of empty folders below one it may not search: each such folder said once, not a failed restore", async () => {
  await unprivileged({ "a.txt": "a\n" }, async ({ fx, run }) => {
    Deno.mkdirSync(join(fx.source, "d", "e", "f"), { recursive: true });
    assert.equal((await run("run")).code, 0, "backed up as nobody");
    const to = join(fx.dir, "out");
    await run("restore", "--to", to);
    Deno.removeSync(join(to, "d", "e"), { recursive: true });
    Deno.chmodSync(join(to, "d"), 0);
    const dry = await run("restore", "--to", to, "--dry-run");
    const real = await run("restore", "--to", to);
    // Was: 'Restore failed: Permission denied (os error 13): lstat …', exit 1. Now the
    // restore goes on, the folder it could not make counted (exit 1, as a file not restored).
    assert.equal(dry.code, 1, `${dry.stdout}\n${dry.stderr}`);
    assert.equal(real.code, 1, `${real.stdout}\n${real.stderr}`);
    assert.match(real.stdout, /^Restore incomplete: .*, 1 folder not made$/m);
    assert.equal(
      dry.stderr,
      `WOULD NOT MAKE FOLDER: source/d/e/ → ${join(to, "d", "e")}: Permission denied ` +
        `(os error 13): lstat '${join(to, "d", "e")}'\n`,
    );
    assert.match(real.stderr, /^WARNING: Cannot make folder '.*': .*permission denied/i);
  });
});

Deno.test("restore --dry-run in place (as nobody) of a file in a folder it may not make: one line, as the restore says it, not a folder line more", async () => {
  await unprivileged({ "a.txt": "a\n", "d/e/b.txt": "b\n" }, async ({ fx, run }) => {
    assert.equal((await run("run")).code, 0, "backed up as nobody");
    Deno.removeSync(join(fx.source, "d", "e"), { recursive: true });
    await sh(`chown root '${join(fx.source, "d")}' && chmod 700 '${join(fx.source, "d")}'`);
    const dry = await run("restore", "--dry-run");
    const real = await run("restore");
    assert.equal(real.code, 1, `${real.stdout}\n${real.stderr}`);
    assert.equal(dry.code, 1, `${dry.stdout}\n${dry.stderr}`);
    // Was: 'WOULD NOT MAKE FOLDER: source/d/e/ → …: Permission denied …' first.
    assert.equal(dry.stderr, real.stderr.replace(/^NOT RESTORED:/, "WOULD NOT RESTORE:"));
  });
});
