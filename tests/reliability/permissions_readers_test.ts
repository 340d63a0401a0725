/**
 * Permission errors of the commands that read a backup, for real, as the unprivileged user
 * `nobody` (see unprivileged.ts; skipped, with a message, when not root or when neither
 * setpriv nor runuser exists): a backup root, a state file or a log_dir nobody may read,
 * a restore into a folder nobody may make or write in, `verify --repair` from a folder it
 * may not write in, and stored copies nobody can read. Each says what is wrong in one line
 * with its remedy, exit 2 where nothing can be done, and changes nothing it should not.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { listDir, NOBODY, sh, snapshot } from "./util.ts";
import { unprivileged } from "./unprivileged.ts";

Deno.test("a backup root nobody may enter: plan, history, verify and restore exit 2 with one line", async () => {
  await unprivileged({ "a.txt": "a\n" }, async ({ fx, run, bare }) => {
    assert.equal((await fx.cli("run")).code, 0); // as root: the root is root's only (0700)
    for (const args of [["plan"], ["history", "a.txt"], ["verify"]]) {
      const r = await run(...args);
      assert.equal(r.code, 2, `${args[0]}: ${r.stdout}\n${r.stderr}`);
      assert.match(
        r.stderr,
        /^Cannot read backup '.*': .*: run as a user who can read the backup root\n$/,
      );
    }
    // Read with --backup-root (the computer lost): the folder given is the right one, and
    // is not said to hold no backup (until 2026-12-05 it was, with the remedy to give the
    // folder holding '.backup-tool', which it is).
    const to = join(fx.dir, "out");
    for (const args of [["history"], ["verify"], ["restore", "--to", to]]) {
      const r = await bare(...args, "--backup-root", fx.backup);
      assert.equal(r.code, 2, `${args[0]}: ${r.stdout}\n${r.stderr}`);
      assert.equal(
        r.stderr,
        `Cannot read backup '${fx.backup}': Permission denied (os error 13): stat ` +
          `'${join(fx.backup, ".backup-tool", "state.db")}': run as a user who can read the ` +
          "backup root\n",
      );
    }
    assert.ok(!listDir(fx.dir).includes("out"), "restore made its --to");
    // And one it may read but not write: run changes nothing (exit 2), the lock names why.
    await sh(`chmod -R a+rX '${fx.backup}' && chown -R ${NOBODY} '${fx.logs}'`);
    const r = await run("run");
    assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
    assert.match(
      r.stderr,
      /^Cannot lock backup root: cannot open .*: it is uid 0's \(mode 0755\), not this user's \(uid 65534\): run as a user who can write it \(its owner, or root through sudo\); where it is your own backup from another computer, where you had another uid, make it yours: sudo chown -R 65534:65534 '.*backup'\n$/,
    );
    // A --to it cannot make: one line, exit 2, not a line for each file.
    const rootOnly = join(fx.dir, "root-only", "out");
    Deno.mkdirSync(join(fx.dir, "root-only"), { mode: 0o755 });
    const restore = await run("restore", "--to", rootOnly);
    assert.equal(restore.code, 2, `${restore.stdout}\n${restore.stderr}`);
    assert.match(
      restore.stderr,
      /^Cannot restore into '.*out': .*: choose a folder you can write to\n$/,
    );
  });
});

Deno.test("a state file nobody may read, or only read (as nobody): every command exits 2 naming it, nothing made", async () => {
  await unprivileged({ "a.txt": "a\n" }, async ({ fx, run }) => {
    assert.equal((await fx.cli("run")).code, 0); // as root
    const db = join(fx.backup, ".backup-tool", "state.db");
    await sh(`chmod -R a+rwX '${fx.backup}' && chown -R ${NOBODY} '${fx.logs}'`);
    // Readable by root only: the readers (plan too) say so, exit 2.
    Deno.chmodSync(db, 0o600);
    for (const args of [["plan"], ["plan", "--json"], ["history", "a.txt"], ["verify"]]) {
      const r = await run(...args);
      assert.equal(r.code, 2, `${args}: ${r.stdout}\n${r.stderr}`);
      assert.equal(r.stdout, "");
      assert.ok(r.stderr.startsWith(`Cannot read backup state '${db}': `), r.stderr);
      assert.match(r.stderr, /: run as a user who can read it\n$/);
    }
    // Readable, not writable: run says it cannot write it (not "Backup failed", exit 1).
    Deno.chmodSync(db, 0o644);
    Deno.writeTextFileSync(join(fx.source, "b.txt"), "b\n");
    const before = snapshot(fx.backup);
    const r = await run("run");
    assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
    assert.ok(r.stderr.startsWith(`Cannot write backup state '${db}': `), r.stderr);
    assert.match(r.stderr, /run as the user who owns the backup root/);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.deepEqual(snapshot(fx.backup), before, "the backup root changed");
  });
});

Deno.test("a restore in place (as nobody, --backup-root) into a folder it may not make: each line says to restore with --to", async () => {
  await unprivileged({ "a.txt": "a\n", "d/b.txt": "b\n" }, async ({ fx, bare }) => {
    assert.equal((await fx.cli("run")).code, 0); // as root, who backed the computer up
    // The computer lost: its source folder gone, its parent another user's, the backup
    // made readable to all.
    Deno.removeSync(fx.source, { recursive: true });
    const mine = join(fx.dir, "mine");
    Deno.mkdirSync(mine);
    await sh(
      `chmod -R a+rX '${fx.backup}' && chown ${NOBODY} '${mine}' && ` +
        `chown root:root '${fx.dir}' && chmod 755 '${fx.dir}'`,
    );
    const r = await bare("restore", "--backup-root", fx.backup);
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 2, r.stderr);
    for (const line of lines) {
      // Until 2026-12-05 the lines ended at the folder, naming no way out.
      assert.match(
        line,
        new RegExp(
          `^NOT RESTORED: source/(a|d/b)\\.txt \\(v1\\): Cannot create folder '${fx.source}(/d)?': ` +
            `.*: restore with --to a folder you can write to, or as a user who can write there$`,
        ),
      );
    }
    const to = join(mine, "restored");
    const again = await bare("restore", "--backup-root", fx.backup, "--to", to);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(Deno.readTextFileSync(join(to, "d", "b.txt")), "b\n");
  });
});

Deno.test("verify --repair --backup-root (as nobody) from a folder it may not write in: exit 2, says to run it elsewhere", async () => {
  await unprivileged({ "a.txt": "a\n" }, async ({ fx, run, bareIn }) => {
    assert.equal((await run("run")).code, 0);
    const here = join(fx.dir, "here");
    Deno.mkdirSync(here);
    await sh(`chown root:root '${here}' && chmod 755 '${here}'`);
    const before = snapshot(fx.backup);
    const r = await bareIn(here, "verify", "--repair", "--backup-root", fx.backup);
    assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
    // Until 2026-12-05 it said 'log_dir', a key of a config there is none of, and to check
    // the path and its permissions.
    const logs = join(here, "logs");
    assert.equal(
      r.stderr.trim(),
      `Cannot write the repair's log in '${logs}': Permission denied (os error 13): mkdir ` +
        `'${logs}': run it from a folder you may write in: with --backup-root its log goes to ` +
        "./logs there",
    );
    assert.deepEqual(snapshot(fx.backup), before, "the backup as it was");
    const elsewhere = join(fx.dir, "elsewhere");
    Deno.mkdirSync(elsewhere);
    await sh(`chown ${NOBODY} '${elsewhere}'`);
    const again = await bareIn(elsewhere, "verify", "--repair", "--backup-root", fx.backup);
    assert.equal(again.code, 0, again.stderr);
  });
});

Deno.test("a log_dir nobody may reach: history, verify and restore need none and work; run and plan say so (exit 2)", async () => {
  await unprivileged({ "a.txt": "a\n" }, async ({ fx, run }) => {
    const hidden = join(fx.dir, "root-only");
    Deno.mkdirSync(hidden, { mode: 0o700 }); // owned by root: nobody cannot enter it
    const cfg = JSON.parse(Deno.readTextFileSync(fx.config));
    Deno.writeTextFileSync(fx.config, JSON.stringify({ ...cfg, log_dir: join(hidden, "logs") }));
    assert.equal((await fx.cli("run")).code, 0); // as root
    await sh(`chmod -R a+rX '${fx.backup}'`);
    const to = join(fx.dir, "out");
    await sh(`mkdir '${to}' && chown ${NOBODY} '${to}'`);
    const cases = [["history", "a.txt"], ["verify"], ["restore", "--to", to]];
    for (const args of cases) {
      const r = await run(...args);
      assert.equal(r.code, 0, `${args}: ${r.stdout}\n${r.stderr}`);
    }
    assert.equal(Deno.readTextFileSync(join(to, "a.txt")), "a\n");
    await sh(`chmod -R a+w '${fx.backup}'`);
    for (const command of ["run", "plan"]) { // a plan refuses what the run would
      const r = await run(command);
      assert.equal(r.code, 2, `${command}: ${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, /^Cannot load config .*'log_dir' .* cannot be accessed: /);
    }
  });
});

Deno.test("a stored copy nobody can read (as nobody): verify --repair makes it again, keeps it aside, and restore works", async () => {
  await unprivileged({ "a.txt": "a\n", "b.txt": "b\n" }, async ({ fx, run }) => {
    assert.equal((await run("run")).code, 0);
    Deno.chmodSync(join(fx.backup, "a.txt"), 0o000);
    const repair = await run("verify", "--repair");
    assert.equal(repair.code, 0, repair.stdout + repair.stderr);
    assert.match(
      repair.stdout,
      /REPAIRED: a\.txt .* from source\/a\.txt; the damaged copy is kept/,
    );
    assert.match(repair.stdout, /Repair: 1 repaired, 0 not repaired/);
    const out = join(fx.dir, "out");
    assert.equal((await run("restore", "a.txt", "--to", out)).code, 0);
    assert.equal(Deno.readTextFileSync(join(out, "a.txt")), "a\n");
    assert.equal((await run("verify")).code, 0);
  });
});

Deno.test("a restore into a folder nobody may write in (as nobody): the folder is named, with the remedy, not a temporary file", async () => {
  await unprivileged({ "a.txt": "a\n", "d/x.txt": "x\n" }, async ({ fx, run }) => {
    assert.equal((await run("run")).code, 0);
    const out = join(fx.dir, "out");
    Deno.mkdirSync(join(out, "d"), { recursive: true });
    await sh(`chown -R ${NOBODY}:${NOBODY} '${out}' && chmod 555 '${join(out, "d")}'`);
    const r = await run("restore", "--to", out);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(Deno.readTextFileSync(join(out, "a.txt")), "a\n");
    assert.equal(
      r.stderr.trim(),
      `NOT RESTORED: source/d/x.txt (v1): Cannot write in '${join(out, "d")}': permission ` +
        "denied: make it writable, or restore with --to a folder you can write to",
    );
    assert.deepEqual(listDir(join(out, "d")), []);
  });
});

Deno.test("verify --repair (as nobody): an unreadable copy nothing else holds is said to be perhaps intact", async () => {
  await unprivileged({ "a.txt": "a\n", "b.txt": "b\n" }, async ({ fx, run }) => {
    assert.equal((await run("run")).code, 0);
    Deno.removeSync(join(fx.source, "a.txt")); // only the copy in _deleted/ holds it now
    assert.equal((await run("run")).code, 0);
    const copy = join(fx.backup, "_deleted", "a.txt");
    Deno.chmodSync(copy, 0o000);
    const r = await run("verify", "--repair");
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(
      r.stderr,
      /^NOT REPAIRED: _deleted\/a\.txt .*; the copy itself could not be read \(.*\): if only its permissions were changed, give them back and verify again$/m,
    );
    Deno.chmodSync(copy, 0o644);
    assert.equal((await run("verify")).code, 0, "intact once its mode is given back");
    // A folder of copies it may not enter: counted in the repair's last line, not "0, 0".
    const folder = join(fx.backup, "_deleted");
    Deno.chmodSync(folder, 0o000);
    try {
      const blocked = await run("verify", "--repair");
      assert.equal(blocked.code, 1, `${blocked.stdout}\n${blocked.stderr}`);
      assert.match(blocked.stderr, /^UNREADABLE: _deleted: /m);
      assert.match(
        blocked.stdout,
        /^Repair: 0 repaired, 0 not repaired, 0 unknown file\(s\), 1 unreadable \(see above\)$/m,
      );
    } finally {
      Deno.chmodSync(folder, 0o755);
    }
  });
});
