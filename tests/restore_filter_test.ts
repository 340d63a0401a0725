/**
 * End-to-end tests of `--include PATTERN` and `--exclude PATTERN` of `restore`, `ls` and
 * `diff`, through the real CLI on real temp folders: a tree whose spreadsheets a
 * ransomware-like change overwrote in the second run, the spreadsheets given back as of
 * the first (`--at`) and nothing else; a PATH and a pattern together; the latest files
 * without the disk images; `ls` and `diff` filtered alike, `--dry-run` and `--json`; names
 * recorded as one file partly filtered; folder patterns; an include and an exclude
 * together; the folder-level warning of files excluded since counting only the files
 * kept; an exclude that matches nothing (a note, everything restored, exit 0), an include
 * that matches nothing (said, the rest restored, exit 1), patterns that keep nothing
 * together (exit 1, nothing written); a bad pattern (exit 2, nothing read or written);
 * several sources, a pattern matched inside each.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type Fixture,
  listFiles,
  makeFixture,
  readTree,
  runCli,
  writeConfig,
  writeTree,
} from "./helpers.ts";
import { ok, put } from "./restore_helpers.ts";

const FIRST: Record<string, string> = {
  "docs/budget.xlsx": "budget, as it was\n",
  "docs/plan.xlsx": "plan, as it was\n",
  "docs/notes.txt": "notes\n",
  "docs/manual.pdf": "%PDF\n",
  "docs/install.iso": "a big disk image\n",
  "app/main.js": "main\n",
  "app/node_modules/lib/index.js": "lib\n",
  "app/node_modules/lib/deep/more.js": "more\n",
};

/** What the second run finds: the spreadsheets overwritten, the notes edited. */
const SECOND: Record<string, string> = {
  "docs/budget.xlsx": "ENCRYPTED budget\n",
  "docs/plan.xlsx": "ENCRYPTED plan\n",
  "docs/notes.txt": "notes, edited\n",
};

/** The tree backed up twice, the second time damaged; the first run's end, for --at. */
async function damaged(): Promise<{ fx: Fixture; before: string }> {
  const fx = makeFixture({});
  put(fx.source, FIRST);
  await ok(fx, "run");
  put(fx.source, SECOND);
  await ok(fx, "run");
  const history = JSON.parse(await ok(fx, "history", "--json"));
  return { fx, before: history.runs[0].endedAt };
}

/** The lines of a text, without the last newline. */
const lines = (text: string) => text.split("\n").filter((l) => l !== "");

Deno.test("restore --at --include '*.xlsx': every spreadsheet as it was, nothing else", async () => {
  const { fx, before } = await damaged();
  using _ = fx;
  const to = join(fx.dir, "r");
  const out = await ok(fx, "restore", "--at", before, "--include", "*.xlsx", "--to", to);
  assert.deepEqual(readTree(to), {
    "docs/budget.xlsx": "budget, as it was\n",
    "docs/plan.xlsx": "plan, as it was\n",
  });
  assert.match(
    out,
    /^Restore complete \(as of [^)]+\): 2 restored, 0 up to date, 0 not restored; filtered by --include '\*\.xlsx'$/m,
  );
});

Deno.test("restore PATH --exclude: the latest files under PATH but those it matches; the pattern read from the source's root", async () => {
  const { fx } = await damaged();
  using _ = fx;
  const to = join(fx.dir, "r");
  await ok(fx, "restore", "docs", "--exclude", "*.iso", "--exclude", "*.pdf", "--to", to);
  assert.deepEqual(readTree(to), {
    "docs/budget.xlsx": "ENCRYPTED budget\n",
    "docs/notes.txt": "notes, edited\n",
    "docs/plan.xlsx": "ENCRYPTED plan\n",
  });
  // A '/' anchors at the source's root, not at the PATH's folder.
  const rooted = join(fx.dir, "rooted");
  await ok(fx, "restore", "docs", "--include", "/docs/notes.txt", "--to", rooted);
  assert.deepEqual(readTree(rooted), { "docs/notes.txt": "notes, edited\n" });
  const under = await fx.cli("ls", "docs", "--include", "/notes.txt");
  assert.equal(under.code, 1, under.stdout);
  assert.match(under.stderr, /^NOT FOUND: --include '\/notes\.txt' matches no file under 'docs'/);
});

Deno.test("ls --at --include lists only what it keeps, counted so; --json says the filter", async () => {
  const { fx, before } = await damaged();
  using _ = fx;
  const out = await ok(fx, "ls", "--at", before, "--include", "*.PDF");
  assert.equal(lines(out).length, 2, out);
  assert.match(lines(out)[0], /^v1 +5 B .* source\/docs\/manual\.pdf {2}in docs\/manual\.pdf$/);
  assert.match(
    lines(out)[1],
    /^Listed 1 file, 5 B \(as of [^;]+; filtered by --include '\*\.PDF'\)$/,
  );
  const json = JSON.parse(await ok(fx, "ls", "--json", "--exclude", "app/", "--exclude", "*.x*"));
  assert.deepEqual(json.files.map((f: { path: string }) => f.path), [
    "source/docs/install.iso",
    "source/docs/manual.pdf",
    "source/docs/notes.txt",
  ]);
  assert.equal(json.count, 3);
  assert.deepEqual(json.filter, { include: [], exclude: ["app/", "*.x*"] });
  assert.deepEqual(json.problems, []);
});

Deno.test("diff --include: only the changes of the paths it keeps, counted so", async () => {
  const { fx, before } = await damaged();
  using _ = fx;
  const all = await ok(fx, "diff", "--since", before);
  assert.match(all, /^M source\/docs\/notes\.txt$/m);
  const out = await ok(fx, "diff", "--since", before, "--include", "*.xlsx");
  assert.deepEqual(lines(out), [
    "M source/docs/budget.xlsx",
    "M source/docs/plan.xlsx",
    `0 added, 0 removed, 2 modified (between ${
      new Date(before).toISOString()
    } and the latest backup; filtered by --include '*.xlsx')`,
  ]);
  const json = JSON.parse(
    await ok(fx, "diff", "--since", before, "docs", "--exclude", "*.xlsx", "--json"),
  );
  assert.deepEqual(json.changes.map((c: { path: string }) => c.path), ["source/docs/notes.txt"]);
  assert.equal(json.counts.modified, 1);
  assert.deepEqual(json.filter, { include: [], exclude: ["*.xlsx"] });
  assert.deepEqual(json.problems, []);
});

Deno.test("restore --dry-run and --json with --include: what it keeps, nothing written", async () => {
  const { fx, before } = await damaged();
  using _ = fx;
  const to = join(fx.dir, "r");
  const dry = await ok(fx, "restore", "--at", before, "--include", "*.xlsx", "-n", "--to", to);
  assert.deepEqual(lines(dry).map((l) => l.split(" (")[0]), [
    "WOULD RESTORE: source/docs/budget.xlsx",
    "WOULD RESTORE: source/docs/plan.xlsx",
    "Dry run",
  ]);
  assert.match(
    dry,
    /: 2 would be restored, 0 up to date, 0 would not be restored; filtered by --include '\*\.xlsx'; nothing was written\n$/,
  );
  assert.throws(() => Deno.statSync(to), Deno.errors.NotFound);
  const json = JSON.parse(
    await ok(fx, "restore", "--at", before, "--include", "*.xlsx", "-n", "--json", "--to", to),
  );
  assert.equal(json.dryRun, true);
  assert.deepEqual(json.restored.map((d: { path: string }) => d.path), [
    "source/docs/budget.xlsx",
    "source/docs/plan.xlsx",
  ]);
  assert.deepEqual(json.filter, { include: ["*.xlsx"], exclude: [] });
  assert.throws(() => Deno.statSync(to), Deno.errors.NotFound);
  // The restore itself lists the same.
  const done = JSON.parse(
    await ok(fx, "restore", "--at", before, "--include", "*.xlsx", "--json", "--to", to),
  );
  assert.deepEqual(
    done.restored.map((d: { path: string }) => d.path),
    json.restored.map((d: { path: string }) => d.path),
  );
  assert.deepEqual(listFiles(to), ["docs/budget.xlsx", "docs/plan.xlsx"]);
});

Deno.test("restore: names recorded as one file, partly filtered, give the names kept, linked among themselves", async () => {
  using fx = makeFixture({ "h/a.xlsx": "one file, three names\n" });
  Deno.linkSync(join(fx.source, "h/a.xlsx"), join(fx.source, "h/b.xlsx"));
  Deno.linkSync(join(fx.source, "h/a.xlsx"), join(fx.source, "h/c.txt"));
  await ok(fx, "run");
  const to = join(fx.dir, "r");
  const out = await ok(fx, "restore", "--include", "*.xlsx", "--to", to);
  assert.deepEqual(listFiles(to), ["h/a.xlsx", "h/b.xlsx"]);
  const ino = (p: string) => Deno.lstatSync(join(to, p)).ino;
  assert.equal(ino("h/a.xlsx"), ino("h/b.xlsx"));
  assert.match(
    out,
    /^RESTORED: source\/h\/b\.xlsx \(v1\) → .* \(a hard link of '.*\/h\/a\.xlsx'\)$/m,
  );
  assert.match(out, /: 2 restored, .*; 1 as hard links of another file, .*; filtered by/);
  // The first name left out: the others are still one file.
  const other = join(fx.dir, "other");
  await ok(fx, "restore", "--exclude", "a.xlsx", "--to", other);
  assert.deepEqual(listFiles(other), ["h/b.xlsx", "h/c.txt"]);
  const at = (p: string) => Deno.lstatSync(join(other, p)).ino;
  assert.equal(at("h/b.xlsx"), at("h/c.txt"));
});

Deno.test("folder patterns leave out or keep everything below; include and exclude together", async () => {
  const { fx } = await damaged();
  using _ = fx;
  const to = join(fx.dir, "r");
  await ok(fx, "restore", "app", "--exclude", "node_modules/", "--to", to);
  assert.deepEqual(listFiles(to), ["app/main.js"]);
  const only = await ok(fx, "ls", "--include", "node_modules/");
  assert.deepEqual(lines(only).slice(0, -1).map((l) => l.match(/Z {2}(\S+) {2}in /)?.[1]), [
    "source/app/node_modules/lib/deep/more.js",
    "source/app/node_modules/lib/index.js",
  ]);
  const both = join(fx.dir, "both");
  const filter = ["--include", "docs/", "--include", "main.js", "--exclude", "*.xlsx"];
  await ok(fx, "restore", ...filter, "--exclude", "*.iso", "--to", both);
  assert.deepEqual(listFiles(both), ["app/main.js", "docs/manual.pdf", "docs/notes.txt"]);
});

Deno.test("restore --exclude: a folder's warning of files excluded since counts only the files kept", async () => {
  using fx = makeFixture({
    "keep.txt": "kept\n",
    "logs/a.log": "a\n",
    "logs/b.log": "b\n",
    "logs/c.old": "c\n",
  });
  await ok(fx, "run");
  writeConfig(fx.config, {
    sources: ["./source"],
    backup_root: "./backup",
    log_dir: "./logs",
    exclude: ["logs/"],
  });
  await ok(fx, "run");
  const to = join(fx.dir, "r");
  const r = await fx.cli("restore", "--exclude", "*.old", "--to", to);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /^WARNING: every file recorded under 'source\/logs' is excluded .*: the backup holds the 2 files restored as last backed up/m,
  );
  assert.deepEqual(listFiles(to), ["keep.txt", "logs/a.log", "logs/b.log"]);
  // Kept to one file, it is said alone.
  const one = await fx.cli("restore", "--include", "a.log", "--to", join(fx.dir, "one"));
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stderr, /^WARNING: 'source\/logs\/a\.log' is excluded /m);
  assert.doesNotMatch(one.stderr, /every file recorded/);
});

Deno.test("an --exclude that matches nothing asked for leaves nothing out: a NOTE, everything restored, exit 0", async () => {
  const { fx, before } = await damaged();
  using _ = fx;
  // A recovery script's exclude, on a machine that has no such file.
  const to = join(fx.dir, "r");
  const r = await fx.cli("restore", "--at", before, "--exclude", "*.docx", "--to", to);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readTree(to), FIRST);
  assert.deepEqual(lines(r.stderr), [
    "NOTE: --exclude '*.docx' matches no file in the backup as of " +
    `${new Date(before).toISOString()}: it leaves nothing out (it is matched against each ` +
    "file's path inside its source, as the config's exclude patterns are, letter case ignored)",
  ]);
  assert.match(
    r.stdout,
    /^Restore complete \(as of [^)]+\): 8 restored, 0 up to date, 0 not restored;/m,
  );
  // --quiet keeps it out, as restore's other notes; --json has it among the notes.
  const quiet = await fx.cli("restore", "--exclude", "*.docx", "--quiet", "--to", to);
  assert.equal(quiet.code, 1, quiet.stderr); // the latest differs from what is there now
  assert.doesNotMatch(quiet.stderr, /NOTE/);
  const json = JSON.parse(
    (await fx.cli("restore", "--at", before, "--exclude", "*.docx", "--json", "--to", to)).stdout,
  );
  assert.equal(json.exitCode, 0);
  assert.deepEqual(json.failed, []);
  assert.equal(json.upToDate.length, 8);
  assert.match(json.notes[0], /^--exclude '\*\.docx' matches no file in the backup as of /);
  // With a pattern that matches: it leaves out what it matches, the other is a note.
  put(fx.source, { "docs/notes.txt": "edited here since\n" });
  const inPlace = await fx.cli(
    "restore",
    "docs",
    "--exclude",
    "*.docx",
    "--exclude",
    "*.iso",
    "--overwrite",
    "--at",
    before,
  );
  assert.equal(inPlace.code, 0, inPlace.stderr);
  assert.match(inPlace.stderr, /^NOTE: --exclude '\*\.docx' matches no file under 'docs' as of /);
  assert.equal(lines(inPlace.stderr).length, 1, inPlace.stderr);
  assert.equal(Deno.readTextFileSync(join(fx.source, "docs/notes.txt")), "notes\n");

  const ls = await fx.cli("ls", "app", "--exclude", "*.iso");
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stderr, /^NOTE: --exclude '\*\.iso' matches no file under 'app': it leaves/);
  assert.match(ls.stdout, /^Listed 3 files, /m);
  const lsJson = JSON.parse((await fx.cli("ls", "--exclude", "*.docx", "--json")).stdout);
  assert.equal(lsJson.exitCode, 0);
  assert.equal(lsJson.count, 8);
  assert.deepEqual(lsJson.problems, []);
  assert.match(lsJson.notes[0], /^--exclude '\*\.docx' matches no file in the backup: it leaves/);

  const diff = await fx.cli("diff", "--since", before, "--exclude", "*.docx");
  assert.equal(diff.code, 0, diff.stderr);
  assert.match(
    diff.stderr,
    /^NOTE: --exclude '\*\.docx' matches no file in the backup as of .* or the latest backup: it leaves nothing out/,
  );
  assert.match(diff.stdout, /^M source\/docs\/notes\.txt$/m);
  const diffJson = await fx.cli("diff", "--since", before, "--exclude", "*.docx", "--json");
  assert.equal(diffJson.code, 0);
  assert.deepEqual(JSON.parse(diffJson.stdout).problems, []);
  assert.equal(JSON.parse(diffJson.stdout).notes.length, 1);
});

Deno.test("an --include that matches nothing asked for: one line naming it, exit 1, the files the others keep restored", async () => {
  const { fx, before } = await damaged();
  using _ = fx;
  const to = join(fx.dir, "r");
  const r = await fx.cli(
    "restore",
    "--at",
    before,
    "--include",
    "*.xlsx",
    "--include",
    "*.docx",
    "--to",
    to,
  );
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual(readTree(to), {
    "docs/budget.xlsx": "budget, as it was\n",
    "docs/plan.xlsx": "plan, as it was\n",
  });
  assert.equal(lines(r.stderr).length, 1, r.stderr);
  assert.match(
    r.stderr,
    /^NOT RESTORED: --include '\*\.docx' matches no file in the backup as of \S+; correct it or leave it out \(it is matched against/,
  );
  // Incomplete, and why: the pattern named beside the counts of files (it is none).
  assert.match(
    r.stdout,
    /^Restore incomplete \(as of [^)]+\): 2 restored, 0 up to date, 0 not restored; 1 --include pattern matched nothing; filtered by /m,
  );
  // As a PATH not in the backup among others: the same exit code, the same kind of line.
  const json = JSON.parse(
    (await fx.cli("restore", "--include", "*.docx", "--include", "*.pdf", "-n", "--json")).stdout,
  );
  assert.equal(json.exitCode, 1);
  assert.deepEqual(json.restored.map((d: { path: string }) => d.path), []);
  assert.equal(json.upToDate.length, 1);
  assert.equal(json.failed.length, 1);
  assert.equal(json.failed[0].kind, "not-found");
  assert.match(json.failed[0].reason, /^--include '\*\.docx' matches no file in the backup;/);

  // Alone, it keeps nothing: said once, nothing written.
  const alone = join(fx.dir, "alone");
  const none = await fx.cli("restore", "--include", "*.docx", "--exclude", "*.iso", "--to", alone);
  assert.equal(none.code, 1, none.stderr);
  assert.deepEqual(lines(none.stderr).map((l) => l.split(":")[0]), ["NOT RESTORED"]);
  assert.match(
    none.stdout,
    /^Restore incomplete: 0 restored, 0 up to date, 0 not restored; 1 --include pattern matched nothing; filtered by /m,
  );
  assert.throws(() => Deno.statSync(alone), Deno.errors.NotFound);
  const two = await fx.cli("restore", "--include", "*.docx", "--include", "*.odt", "-n");
  assert.match(two.stdout, /would not be restored; 2 --include patterns matched nothing; filtered/);

  const ls = await fx.cli("ls", "docs", "--include", "*.pdf", "--include", "*.docx");
  assert.equal(ls.code, 1, ls.stderr);
  assert.match(ls.stderr, /^NOT FOUND: --include '\*\.docx' matches no file under 'docs';/);
  assert.match(ls.stdout, /source\/docs\/manual\.pdf[^]*^Listed 1 file, /m);

  const diff = await fx.cli(
    "diff",
    "--since",
    before,
    "--include",
    "*.xlsx",
    "--include",
    "*.docx",
  );
  assert.equal(diff.code, 1, diff.stderr);
  assert.match(
    diff.stderr,
    /^NOT FOUND: --include '\*\.docx' matches no file in the backup as of .* or the latest backup;/,
  );
  assert.match(diff.stdout, /^M source\/docs\/budget\.xlsx$/m);
  const diffJson = await fx.cli("diff", "--since", before, "--include", "*.docx", "--json");
  assert.equal(diffJson.code, 1);
  assert.match(
    JSON.parse(diffJson.stdout).problems[0].reason,
    /^--include '\*\.docx' matches no file/,
  );
});

Deno.test("patterns that each match some but together keep none: one line, exit 1, nothing written", async () => {
  const { fx } = await damaged();
  using _ = fx;
  const to = join(fx.dir, "r");
  const none = await fx.cli("restore", "--include", "*.xlsx", "--exclude", "docs/", "--to", to);
  assert.equal(none.code, 1, none.stderr);
  assert.deepEqual(lines(none.stderr), [
    "NOT RESTORED: --include '*.xlsx' --exclude 'docs/' leave no file in the backup; each " +
    "matches some, and together they keep none: see 'ls' without them for what there is",
  ]);
  assert.match(
    none.stdout,
    /^Restore incomplete: 0 restored, 0 up to date, 0 not restored; the patterns together keep no file; filtered by /m,
  );
  assert.throws(() => Deno.statSync(to), Deno.errors.NotFound);
  // An exclude that matches nothing besides: its note, and the line names those that match.
  const ls = await fx.cli("ls", "--include", "*.xlsx", "--exclude", "docs/", "--exclude", "*.docx");
  assert.equal(ls.code, 1, ls.stderr);
  assert.deepEqual(lines(ls.stderr).map((l) => l.slice(0, 50)), [
    "NOTE: --exclude '*.docx' matches no file in the ba",
    "NOT FOUND: --include '*.xlsx' --exclude 'docs/' le",
  ]);
  const diff = await fx.cli("diff", "--since", "1d", "--include", "*.xlsx", "--exclude", "*.xlsx");
  assert.equal(diff.code, 1, diff.stderr);
  assert.match(diff.stderr, /^NOT FOUND: --include '\*\.xlsx' --exclude '\*\.xlsx' leave no file/);
});

Deno.test("a bad pattern: exit 2, one line naming the option and the value, nothing read or written", async () => {
  using fx = makeFixture({ "a.txt": "a\n" });
  await ok(fx, "run");
  const to = join(fx.dir, "r");
  const cases: [string[], RegExp][] = [
    [
      ["restore", "--include", "[a-", "--to", to],
      /^Invalid --include '\[a-': it has a '\[' that no '\]' closes, .*: see 'restore --help'\n$/,
    ],
    [
      ["ls", "--exclude", "a/../b"],
      /^Invalid --exclude 'a\/\.\.\/b': it has a '\.' or '\.\.' part/,
    ],
    [["diff", "--since", "1d", "--include", ""], /^Invalid --include '': it is empty/],
    [
      ["restore", "--exclude", "!*.iso", "--to", to],
      /^Invalid --exclude '!\*\.iso': it begins with '!', .*write --include '\*\.iso'/,
    ],
    [
      ["restore", "a.txt", "--version", "1", "--include", "*.txt", "--to", to],
      /^Cannot use --include or --exclude with --version/,
    ],
  ];
  for (const [args, said] of cases) {
    const r = await fx.cli(...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, "");
    assert.equal(lines(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, said);
  }
  assert.throws(() => Deno.statSync(to), Deno.errors.NotFound);
  // Refused before the config is read: one that does not exist is not what is said.
  const r = await runCli(["ls", "--include", "[x", "--config", join(fx.dir, "none.jsonc")]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^Invalid --include '\[x'/);
});

Deno.test("several sources: a pattern is matched inside each; one that begins with a source's name is told to give it as a PATH", async () => {
  using fx = makeFixture({});
  writeTree(join(fx.dir, "alpha"), { "docs/a.xlsx": "a\n", "b.txt": "b\n" });
  writeTree(join(fx.dir, "beta"), { "docs/c.xlsx": "c\n" });
  writeConfig(fx.config, {
    sources: ["./alpha", "./beta"],
    backup_root: "./backup",
    log_dir: "./logs",
  });
  await ok(fx, "run");
  const every = await ok(fx, "ls", "--include", "/docs/*.xlsx");
  assert.match(every, /alpha\/docs\/a\.xlsx[^]*beta\/docs\/c\.xlsx[^]*^Listed 2 files/m);
  const to = join(fx.dir, "r");
  await ok(fx, "restore", "alpha", "--include", "docs/*.xlsx", "--to", to);
  assert.deepEqual(listFiles(to), ["alpha/docs/a.xlsx"]);
  const named = await fx.cli("restore", "--include", "alpha/docs/*.xlsx", "--to", to);
  assert.equal(named.code, 1, named.stderr);
  assert.match(
    named.stderr,
    /^NOT RESTORED: --include 'alpha\/docs\/\*\.xlsx' matches no file in the backup; correct it or leave it out \(.*'alpha' is a source's name, not a folder in one: give 'alpha' as a PATH, with --include 'docs\/\*\.xlsx'\)$/m,
  );
  assert.deepEqual(listFiles(to), ["alpha/docs/a.xlsx"]);
});

Deno.test("restore and ls --include matching only a file deleted since (or backed up later) say which and where to look, not to correct the pattern", async () => {
  const { fx, before } = await damaged();
  Deno.removeSync(join(fx.source, "docs/manual.pdf"));
  Deno.writeTextFileSync(join(fx.source, "docs/later.md"), "later\n");
  await ok(fx, "run");
  const to = join(fx.dir, "out");
  const r = await fx.cli("restore", "--include", "*.pdf", "--include", "*.txt", "--to", to);
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual(readTree(to), { "docs/notes.txt": "notes, edited\n" });
  assert.deepEqual(lines(r.stderr), [
    "NOT RESTORED: --include '*.pdf' matches no file in the backup; it matches " +
    "'source/docs/manual.pdf', recorded at other moments only (deleted since, or backed up " +
    `later): 'history source/docs/manual.pdf --config ${fx.config}' lists them; give --at one ` +
    "of them",
  ]);
  const ls = await fx.cli("ls", "--at", before, "--include", "*.md");
  assert.equal(ls.code, 1, ls.stderr);
  assert.match(
    ls.stderr,
    /^NOT FOUND: --include '\*\.md' matches no file in the backup as of \S+; it matches 'source\/docs\/later\.md', recorded at other moments only/,
  );
  // One that matches nothing recorded ever is told to be corrected, as before.
  const never = await fx.cli("ls", "--include", "*.docx");
  assert.match(
    never.stderr,
    /^NOT FOUND: --include '\*\.docx' matches no file in the backup; correct it/,
  );
});

Deno.test("a '!' exception below a folder a pattern before it matches takes nothing back: a NOTE says so and what to write", async () => {
  const { fx } = await damaged();
  const to = join(fx.dir, "out");
  const r = await fx.cli(
    "restore",
    "--exclude",
    "docs/",
    "--exclude",
    "!docs/notes.txt",
    "--to",
    to,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(Object.keys(readTree(to)).sort(), [
    "app/main.js",
    "app/node_modules/lib/deep/more.js",
    "app/node_modules/lib/index.js",
  ]);
  assert.deepEqual(lines(r.stderr), [
    "NOTE: --exclude '!docs/notes.txt' takes no file back in the backup: the files it matches " +
    "are below a folder 'docs/' matches, and nothing below a folder a pattern matches is taken " +
    "back (as in the config's exclude): write 'docs/**' instead of 'docs/' to match the " +
    "folder's files one by one",
  ]);
  // An include's exception alike: the folder's files all kept.
  const ls = await fx.cli("ls", "--include", "docs/", "--include", "!*.iso", "--json");
  assert.equal(ls.code, 0, ls.stderr);
  const doc = JSON.parse(ls.stdout);
  assert.ok(doc.files.some((f: { path: string }) => f.path === "source/docs/install.iso"));
  assert.match(
    doc.notes[0],
    /^--include '!\*\.iso' takes no file back in the backup: .*write 'docs\/\*\*' instead of 'docs\/'/,
  );
  // Written so, it takes the file back: no note.
  const right = await fx.cli("ls", "--include", "docs/**", "--include", "!*.iso");
  assert.equal(right.code, 0, right.stderr);
  assert.equal(right.stderr, "");
  assert.doesNotMatch(right.stdout, /install\.iso/);
});

Deno.test("a '!' exception that matches nothing takes nothing out of the includes nor back from the excludes: a NOTE, exit code unchanged", async () => {
  const { fx, before } = await damaged();
  // restore.md's own example, on a machine where Excel left no lock file.
  const to = join(fx.dir, "out");
  const r = await fx.cli(
    "restore",
    "--at",
    before,
    "--include",
    "*.xlsx",
    "--include",
    "!~$*",
    "--to",
    to,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readTree(to), {
    "docs/budget.xlsx": "budget, as it was\n",
    "docs/plan.xlsx": "plan, as it was\n",
  });
  assert.match(
    r.stderr,
    /^NOTE: --include '!~\$\*' matches no file in the backup as of \S+: it leaves nothing out \(/,
  );
  assert.equal(lines(r.stderr).length, 1, r.stderr);
  const ls = await fx.cli("ls", "--exclude", "*.js", "--exclude", "!keep*.js");
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(
    ls.stderr,
    /^NOTE: --exclude '!keep\*\.js' matches no file in the backup: it takes nothing back \(/,
  );
});

Deno.test("--include and --exclude match a name recorded decomposed (as macOS writes it) as typed, composed, as find does", async () => {
  const nfd = "U\u0308ber/re\u0301sume\u0301.txt"; // Über/résumé.txt, decomposed
  using fx = makeFixture({ [nfd]: "cv\n", "other.txt": "o\n" });
  await ok(fx, "run");
  const typed = "Über/résumé.txt".normalize("NFC");
  assert.notEqual(typed, nfd);
  const found = await fx.cli("find", "*/Über/*");
  assert.equal(found.code, 0, found.stderr);
  assert.match(found.stdout, /sume/); // find matched it already
  const ls = await fx.cli("ls", "--include", "Über/");
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /^Listed 1 file, /m);
  const byName = await fx.cli("ls", "--include", "résumé.txt");
  assert.equal(byName.code, 0, byName.stderr);
  const to = join(fx.dir, "out");
  const r = await fx.cli("restore", "--exclude", typed, "--to", to);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readTree(to), { "other.txt": "o\n" });
  assert.equal(r.stderr, "");
});
