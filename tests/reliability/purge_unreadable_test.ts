/**
 * `purge` where folders of the backup root cannot be entered, for real, as the unprivileged
 * user `nobody` (see unprivileged.ts; skipped, with a message, when not root or when neither
 * setpriv nor runuser exists): whether a stored copy is there cannot be told. A copy that may
 * hold the only stored bytes of a duplicate still backed up is kept, said with its own line;
 * one whose deletion fails is a line of its own too; the others go, exit 1, never a crash;
 * `--json`'s `bytes` counts only the copies deleted.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { writeConfig } from "../helpers.ts";
import { NOBODY, sh } from "./util.ts";
import { unprivileged } from "./unprivileged.ts";

Deno.test("purge (as nobody) where folders of copies cannot be entered: a line per copy kept or not deleted, the others purged, exit 1", async () => {
  const tree = {
    "a.img": "same bytes\n", // its duplicate b.img's copy is in _duplicates/, closed
    "b.img": "same bytes\n",
    "d/e.key": "secret\n", // excluded, its copy in d/, closed
    "d/g.img": "other bytes\n", // excluded; its duplicate h.img's copy closed too
    "h.img": "other bytes\n",
    ".env": "s\n", // excluded, its copy open: purged
    "c.txt": "c\n",
  };
  await unprivileged(tree, async ({ fx, run }) => {
    assert.equal((await fx.cli("run")).code, 0); // as root
    const cfg = JSON.parse(Deno.readTextFileSync(fx.config));
    writeConfig(fx.config, { ...cfg, exclude: ["a.img", "d/e.key", "d/g.img", ".env"] });
    assert.equal((await fx.cli("run")).code, 0);
    const dups = join(fx.backup, "_duplicates");
    const d = join(fx.backup, "d");
    assert.ok(Deno.statSync(join(dups, "b.img")).isFile);
    assert.ok(Deno.statSync(join(dups, "h.img")).isFile);
    // The backup nobody's, but for two folders of copies: root's, closed to others.
    await sh(
      `chown -R ${NOBODY}:${NOBODY} '${fx.backup}' '${fx.logs}' && ` +
        `chown root:root '${dups}' '${d}' && chmod 700 '${dups}' '${d}'`,
    );
    const held = (copy: string, other: string) =>
      `ERROR: source/${copy}: Cannot purge its copy '${copy}': it may hold the only stored ` +
      `bytes of 'source/${other}', still backed up, whose own copy '_duplicates/${other}' ` +
      `could not be looked at (Permission denied (os error 13): lstat '${join(dups, other)}'): ` +
      "purge as a user who may enter the backup root's folders (where that copy is missing, " +
      `run 'verify --repair --config ${fx.config}' first); the copy was left in place`;
    const kept = [held("a.img", "b.img"), held("d/g.img", "h.img")];
    const paths = ["a.img", "d/e.key", "d/g.img", ".env"];
    const listed = await run("purge", ...paths);
    assert.equal(listed.code, 1, `${listed.stdout}\n${listed.stderr}`);
    assert.deepEqual(listed.stderr.trim().split("\n"), kept);
    assert.match(listed.stdout, /^PURGE: \.env \(source\/\.env v1, latest, 2 B\)$/m);
    assert.match(listed.stdout, /^PURGE: d\/e\.key \(source\/d\/e\.key v1, latest, 7 B\)$/m);
    const r = await run("purge", ...paths, "--yes");
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 3, r.stderr);
    assert.deepEqual(lines.slice(0, 2), kept);
    assert.equal(
      lines[2],
      "ERROR: source/d/e.key: Cannot purge its copy 'd/e.key': Permission denied (os error " +
        `13): lstat '${join(d, "e.key")}': purge as a user who may enter and write in the ` +
        "backup root's folders; the copy was left in place",
    );
    assert.match(
      r.stdout,
      /^Purge complete: 1 stored copy purged \(2 B\), 3 failed; log: /m,
    );
    // Nothing gone but .env's copy; the closed folders' copies all there, as root sees.
    for (const copy of ["a.img", "d/e.key", "d/g.img", "_duplicates/b.img", "c.txt"]) {
      assert.ok(Deno.statSync(join(fx.backup, copy)).isFile, copy);
    }
    assert.throws(() => Deno.statSync(join(fx.backup, ".env")), Deno.errors.NotFound);
    // Opened again, the same purge (as root) finishes: nothing is missing.
    await sh(`chmod 755 '${dups}' '${d}'`);
    const again = await fx.cli("purge", ...paths, "--yes");
    assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);
    assert.equal((await fx.cli("verify")).code, 0);
  });
});

Deno.test("purge --json (as nobody) where a copy's folder may not be written in: its bytes are not counted as deleted", async () => {
  const tree = { "d/e.key": "secret\n", ".env": "s\n", "c.txt": "c\n" };
  await unprivileged(tree, async ({ fx, run }) => {
    assert.equal((await fx.cli("run")).code, 0); // as root
    const cfg = JSON.parse(Deno.readTextFileSync(fx.config));
    writeConfig(fx.config, { ...cfg, exclude: ["d/e.key", ".env"] });
    assert.equal((await fx.cli("run")).code, 0);
    const d = join(fx.backup, "d");
    // The backup nobody's, but for d/: root's, open to enter, not to write in.
    await sh(
      `chown -R ${NOBODY}:${NOBODY} '${fx.backup}' '${fx.logs}' && ` +
        `chown root:root '${d}' && chmod 755 '${d}'`,
    );
    const paths = ["d/e.key", ".env", "--json"];
    const listed = await run("purge", ...paths);
    assert.equal(listed.code, 0, `${listed.stdout}\n${listed.stderr}`);
    assert.equal(JSON.parse(listed.stdout).bytes, 9); // what it would delete
    const r = await run("purge", ...paths, "--yes");
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.purged, true);
    assert.equal(doc.copies.length, 2);
    assert.deepEqual(doc.errors.map((e: { path: string }) => e.path), ["source/d/e.key"]);
    // Before, 9: e.key's 7 bytes, left in place, counted as deleted.
    assert.equal(doc.bytes, 2);
    assert.ok(Deno.statSync(join(d, "e.key")).isFile);
    assert.throws(() => Deno.statSync(join(fx.backup, ".env")), Deno.errors.NotFound);
  });
});
