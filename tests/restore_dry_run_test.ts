/**
 * End-to-end tests of `restore --dry-run` (`-n`), through the real CLI on real temp
 * folders: in place `--at` an earlier moment over a source with an edited file, a new
 * file, a deleted file, a deleted folder and hard links, the dry run's lines and counts
 * are what the real restore run next does, path by path (without and with --overwrite),
 * and the source and the backup root are left byte for byte as they were (mtimes and
 * modes too); `--to` a folder that does not exist is not made; `--json` has restore's
 * shape with `dryRun: true`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fingerprint, type Fixture, makeFixture } from "./helpers.ts";
import { ok, put } from "./restore_helpers.ts";
import { exists } from "./reliability/util.ts";

/** The source as backed up by the first run (`h1`, `h2`: one file under two names). */
const FIRST: Record<string, string> = {
  "a.txt": "a as backed up\n",
  "b.txt": "b, deleted later\n",
  "keep.txt": "kept as it is\n",
  "dir/c.txt": "c as it is\n",
  "gone/e.txt": "e, its folder deleted later\n",
  "h1": "one file, two names\n",
};

/** What became of each file since (null: deleted), after the first run and the second. */
const SINCE: Record<string, string | null> = {
  "a.txt": "a edited since\n",
  "b.txt": null,
  "new.txt": "new since\n",
};

/** Each path's fate, as a real restore's lines or a dry run's say it. */
type Fates = Record<string, string>;

/** The source after the first run, changed since and backed up again; the first run's end. */
async function changedSince(fx: Fixture): Promise<string> {
  put(fx.source, FIRST);
  Deno.linkSync(join(fx.source, "h1"), join(fx.source, "h2"));
  Deno.symlinkSync("keep.txt", join(fx.source, "l"));
  await ok(fx, "run");
  const history = JSON.parse(await ok(fx, "history", "--json"));
  const ended: string = history.runs[0].endedAt;
  put(fx.source, { "a.txt": SINCE["a.txt"]!, "new.txt": SINCE["new.txt"]! });
  Deno.removeSync(join(fx.source, "b.txt"));
  Deno.removeSync(join(fx.source, "gone"), { recursive: true });
  Deno.removeSync(join(fx.source, "h1"));
  Deno.removeSync(join(fx.source, "h2"));
  await ok(fx, "run");
  return ended;
}

/** Every entry under `root` with its mtime (folders too), beside `fingerprint`'s bytes. */
function exactly(root: string): Record<string, string> {
  const out = fingerprint(root);
  const walk = (dir: string, rel: string) => {
    out[`${rel}/ mtime`] = String(Deno.lstatSync(dir).mtime?.getTime());
    for (const e of Deno.readDirSync(dir)) {
      if (e.isDirectory) walk(join(dir, e.name), `${rel}/${e.name}`);
    }
  };
  walk(root, "");
  return out;
}

/** A dry run's lines as the real restore's would read: WOULD RESTORE is RESTORED, and so on. */
function dryFates(stdout: string, stderr: string): Fates {
  const fates: Fates = {};
  for (const line of `${stdout}${stderr}`.split("\n")) {
    let m = line.match(/^WOULD (?:RESTORE|REPLACE): (\S+) \(v\d+\) → (.*)$/);
    if (m) fates[m[1]] = `RESTORED → ${m[2]}`;
    else if ((m = line.match(/^UP TO DATE: (\S+) \((.*)\)$/))) fates[m[1]] = `UP TO DATE ${m[2]}`;
    else if (
      (m = line.match(/^WOULD LEAVE: (\S+) \(v\d+\) → (.*) \(differs: use --overwrite\)$/))
    ) {
      fates[m[1]] = `LEFT ${m[2]}`;
    } else if ((m = line.match(/^WOULD NOT RESTORE: (\S+) \(v\d+\): (.*)$/))) {
      fates[m[1]] = `NOT RESTORED: ${m[2]}`;
    }
  }
  return fates;
}

/** A real restore's lines, read the same way. */
function realFates(stdout: string, stderr: string): Fates {
  const fates: Fates = {};
  for (const line of `${stdout}${stderr}`.split("\n")) {
    let m = line.match(/^RESTORED: (\S+) \(v\d+\) → (.*)$/);
    if (m) fates[m[1]] = `RESTORED → ${m[2]}`;
    else if ((m = line.match(/^UP TO DATE: (\S+) \((.*)\)$/))) fates[m[1]] = `UP TO DATE ${m[2]}`;
    else if ((m = line.match(/^NOT RESTORED: (\S+) \(v\d+\): '(.*)' exists with other content/))) {
      fates[m[1]] = `LEFT ${m[2]}`;
    } else if ((m = line.match(/^NOT RESTORED: (\S+) \(v\d+\): (.*)$/))) {
      fates[m[1]] = `NOT RESTORED: ${m[2]}`;
    }
  }
  return fates;
}

/** The counts of a dry run's summary, and of a real restore's. */
function counts(summary: string): number[] {
  const m = summary.match(
    /: (\d+) (?:would be )?restored, (\d+) up to date, (\d+) (?:would )?not (?:be )?restored/,
  );
  assert.ok(m, summary);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** Runs `restore ARGS --dry-run`, checks it wrote nothing, then the real restore: both. */
async function dryThenReal(fx: Fixture, args: string[], watched: string[]) {
  const before = watched.map(exactly);
  const dry = await fx.cli("restore", ...args, "--dry-run");
  assert.deepEqual(watched.map(exactly), before, "the dry run changed nothing");
  const real = await fx.cli("restore", ...args);
  assert.equal(
    dry.code,
    real.code,
    `${dry.stdout}${dry.stderr}\n---\n${real.stdout}${real.stderr}`,
  );
  return { dry, real };
}

Deno.test("restore --dry-run in place --at an earlier moment: what the restore then does, nothing written", async () => {
  using fx = makeFixture({});
  const ended = await changedSince(fx);
  const src = (p: string) => join(fx.source, ...p.split("/"));
  const { dry, real } = await dryThenReal(fx, ["--at", ended], [fx.source, fx.backup]);
  assert.equal(dry.code, 1);
  assert.deepEqual(dryFates(dry.stdout, dry.stderr), {
    "source/a.txt": `LEFT ${src("a.txt")}`,
    "source/b.txt": `RESTORED → ${src("b.txt")}`,
    "source/dir/c.txt": `UP TO DATE ${src("dir/c.txt")}`,
    "source/gone/e.txt": `RESTORED → ${src("gone/e.txt")}`,
    "source/h1": `RESTORED → ${src("h1")}`,
    "source/h2": `RESTORED → ${src("h2")} (a hard link of '${src("h1")}')`,
    "source/keep.txt": `UP TO DATE ${src("keep.txt")}`,
    "source/l": `UP TO DATE ${src("l")}`,
  });
  assert.deepEqual(dryFates(dry.stdout, dry.stderr), realFates(real.stdout, real.stderr));
  const summary = dry.stdout.trim().split("\n").at(-1)!;
  assert.equal(
    summary,
    `Dry run (as of ${ended}): 4 would be restored, 3 up to date, 1 would not be restored; ` +
      "1 as hard links of another file, as the backup recorded them; nothing was written",
  );
  assert.deepEqual(counts(summary), counts(real.stdout.trim().split("\n").at(-1)!));
  // The real restore did what the dry run said: the new file stays, the edited one too.
  assert.equal(Deno.readTextFileSync(src("new.txt")), SINCE["new.txt"]);
  assert.equal(Deno.readTextFileSync(src("a.txt")), SINCE["a.txt"]);
  assert.equal(Deno.statSync(src("h2")).ino, Deno.statSync(src("h1")).ino);

  // Again with --overwrite (-n): a.txt would be replaced, the rest is up to date now.
  const again = await dryThenReal(fx, ["--at", ended, "--overwrite"], [fx.source, fx.backup]);
  assert.equal(again.dry.code, 0);
  const lines = again.dry.stdout.split("\n");
  assert.ok(lines.includes(`WOULD REPLACE: source/a.txt (v1) → ${src("a.txt")}`), again.dry.stdout);
  assert.deepEqual(
    dryFates(again.dry.stdout, again.dry.stderr),
    realFates(again.real.stdout, again.real.stderr),
  );
  assert.match(again.dry.stdout, /: 1 would be restored, 7 up to date, 0 would not be restored;/);
  assert.equal(Deno.readTextFileSync(src("a.txt")), FIRST["a.txt"]);

  // -n is --dry-run; --quiet keeps only problems (none now) and no summary.
  const quiet = await fx.cli("restore", "--at", ended, "-n", "-q");
  assert.deepEqual([quiet.code, quiet.stdout, quiet.stderr], [0, "", ""]);
});

Deno.test("restore --dry-run --to a folder that does not exist: not made; --json says dryRun", async () => {
  using fx = makeFixture({});
  const ended = await changedSince(fx);
  const to = join(fx.dir, "out", "deeper");
  const watched = [fx.source, fx.backup, fx.dir];
  const before = watched.map(exactly);
  const dry = await fx.cli("restore", "--at", ended, "--to", to, "-n");
  assert.equal(dry.code, 0, dry.stderr);
  assert.deepEqual(watched.map(exactly), before);
  assert.equal(exists(join(fx.dir, "out")), false);
  assert.match(dry.stdout, /: 8 would be restored, 0 up to date, 0 would not be restored;/);

  const json = await fx.cli("restore", "--at", ended, "--to", to, "--dry-run", "--json");
  assert.deepEqual(watched.map(exactly), before);
  const doc = JSON.parse(json.stdout);
  assert.equal(doc.command, "restore");
  assert.equal(doc.dryRun, true);
  assert.equal(doc.exitCode, 0);
  assert.equal(doc.at, ended);
  assert.deepEqual(doc.failed, []);
  assert.deepEqual(doc.upToDate, []);
  assert.equal(doc.restored.length, 8);
  assert.deepEqual(doc.restored.find((r: { path: string }) => r.path === "source/h2"), {
    path: "source/h2",
    version: 1,
    to: join(to, "h2"),
    hardLinkOf: join(to, "h1"),
  });

  const real = await fx.cli("restore", "--at", ended, "--to", to);
  assert.equal(real.code, 0, real.stderr);
  assert.deepEqual(dryFates(dry.stdout, dry.stderr), realFates(real.stdout, real.stderr));

  // In place, --json: the edited file a conflict, and with --overwrite a replacement.
  const inPlace = JSON.parse((await fx.cli("restore", "--at", ended, "-n", "--json")).stdout);
  assert.deepEqual(
    [inPlace.dryRun, inPlace.exitCode, inPlace.failed.map((f: { kind: string }) => f.kind)],
    [true, 1, ["conflict"]],
  );
  const over = JSON.parse(
    (await fx.cli("restore", "--at", ended, "-n", "--json", "--overwrite")).stdout,
  );
  const a = over.restored.find((r: { path: string }) => r.path === "source/a.txt");
  assert.deepEqual(a, {
    path: "source/a.txt",
    version: 1,
    to: join(fx.source, "a.txt"),
    replaces: true,
  });
  assert.equal(Deno.readTextFileSync(join(fx.source, "a.txt")), SINCE["a.txt"]);
});

Deno.test("restore --dry-run says the refusals a restore gives: a folder in the way, a symlink on the way", async () => {
  using fx = makeFixture({});
  put(fx.source, { "x.txt": "x\n", "d/y.txt": "y\n" });
  await ok(fx, "run");
  Deno.removeSync(join(fx.source, "x.txt"));
  Deno.mkdirSync(join(fx.source, "x.txt"));
  Deno.renameSync(join(fx.source, "d"), join(fx.dir, "elsewhere"));
  Deno.symlinkSync(join(fx.dir, "elsewhere"), join(fx.source, "d"));
  const { dry, real } = await dryThenReal(fx, [], [fx.source, fx.backup, fx.dir]);
  assert.equal(dry.code, 1);
  const fates = dryFates(dry.stdout, dry.stderr);
  assert.deepEqual(Object.keys(fates).sort(), ["source/d/y.txt", "source/x.txt"]);
  assert.match(
    fates["source/x.txt"],
    /a folder is in the way at '.*x\.txt': move it away, or restore with --to DIR$/,
  );
  assert.match(fates["source/d/y.txt"], /is a symlink, which a restore never writes through/);
  assert.deepEqual(fates, realFates(real.stdout, real.stderr));
  assert.match(dry.stdout, /: 0 would be restored, 0 up to date, 2 would not be restored; nothing/);
});
