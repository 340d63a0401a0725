/**
 * Unit tests of `--include` and `--exclude`'s filter (path_filter.ts): which recorded files
 * it keeps, as the config's exclude matcher reads the same patterns (a folder pattern, an
 * anchored one, `**`, `!`, letter case), the patterns it refuses, and what it says of a
 * pattern that matches no file asked for.
 */
import assert from "node:assert/strict";
import { createMatcher, excludesRecorded } from "../core/exclude.ts";
import { UsageError } from "../engine/errors.ts";
import {
  checkFilterPatterns,
  filterPatternProblem,
  PathFilter,
  pathFilter,
  PatternHits,
  sourceHint,
} from "./path_filter.ts";

const PATHS = [
  "src/docs/a.xlsx",
  "src/docs/B.XLSX",
  "src/docs/notes.txt",
  "src/docs/old/c.xlsx",
  "src/top.xlsx",
  "src/app/node_modules/x/i.js",
  "src/app/node_modules/y.xlsx",
  "src/app/main.js",
  "src/img/big.iso",
  "src/docs/docs/d.txt",
];

const kept = (f: PathFilter) => PATHS.filter((p) => f.keeps(p));

Deno.test("pathFilter: none without patterns", () => {
  assert.equal(pathFilter({ include: [], exclude: [] }), undefined);
});

Deno.test("PathFilter: an include keeps what it matches, letter case ignored", () => {
  const f = new PathFilter({ include: ["*.xlsx"], exclude: [] });
  assert.deepEqual(kept(f), [
    "src/docs/a.xlsx",
    "src/docs/B.XLSX",
    "src/docs/old/c.xlsx",
    "src/top.xlsx",
    "src/app/node_modules/y.xlsx",
  ]);
});

Deno.test("PathFilter: an exclude leaves out what it matches, a folder pattern everything below", () => {
  const f = new PathFilter({ include: [], exclude: ["node_modules/", "*.iso"] });
  assert.deepEqual(kept(f), [
    "src/docs/a.xlsx",
    "src/docs/B.XLSX",
    "src/docs/notes.txt",
    "src/docs/old/c.xlsx",
    "src/top.xlsx",
    "src/app/main.js",
    "src/docs/docs/d.txt",
  ]);
  // An include of a folder keeps every file below it.
  const only = new PathFilter({ include: ["node_modules/"], exclude: [] });
  assert.deepEqual(kept(only), ["src/app/node_modules/x/i.js", "src/app/node_modules/y.xlsx"]);
});

Deno.test("PathFilter: include and exclude together, '!' an exception within its option", () => {
  const f = new PathFilter({ include: ["*.xlsx", "!top.xlsx"], exclude: ["old/"] });
  assert.deepEqual(kept(f), ["src/docs/a.xlsx", "src/docs/B.XLSX", "src/app/node_modules/y.xlsx"]);
});

Deno.test("PathFilter: a pattern is matched inside the source, a leading '/' at its root", () => {
  // `/docs/` is the source's docs folder, not docs/docs; the source's name is not part of it.
  const f = new PathFilter({ include: ["/docs/"], exclude: ["/docs/*.xlsx"] });
  assert.deepEqual(kept(f), ["src/docs/notes.txt", "src/docs/old/c.xlsx", "src/docs/docs/d.txt"]);
  assert.deepEqual(kept(new PathFilter({ include: ["src/docs/"], exclude: [] })), []);
  assert.deepEqual(kept(new PathFilter({ include: ["docs/**/*.xlsx"], exclude: [] })), [
    "src/docs/a.xlsx",
    "src/docs/B.XLSX",
    "src/docs/old/c.xlsx",
  ]);
});

Deno.test("PathFilter: an exclude means what the config's exclude means", () => {
  const lists = [
    ["*.xlsx"],
    ["docs/"],
    ["/top.xlsx", "**/x/"],
    ["docs/*", "!docs/notes.txt"],
    ["app/", "!app/main.js"], // below an excluded folder no '!' takes a file back
    ["[a-c].xlsx", "?ld/"],
  ];
  for (const exclude of lists) {
    const config = createMatcher(exclude);
    const f = new PathFilter({ include: [], exclude });
    for (const p of PATHS) {
      assert.equal(f.keeps(p), !excludesRecorded(config, p), `${exclude.join(" ")}: ${p}`);
    }
  }
});

Deno.test("filterPatternProblem: what the config refuses, and a '!' first of its option", () => {
  assert.match(
    filterPatternProblem("--include", "", true)!,
    /^it is empty \(an unset variable\?\)/,
  );
  assert.match(filterPatternProblem("--exclude", "#x", true)!, /comment .* write '\\#x'/);
  assert.match(filterPatternProblem("--include", "[a-", true)!, /'\[' that no '\]' closes/);
  assert.match(filterPatternProblem("--exclude", "a/../b", true)!, /'\.' or '\.\.' part/);
  assert.match(filterPatternProblem("--exclude", "[z-a]", true)!, /backwards range/);
  assert.match(
    filterPatternProblem("--include", "docs\\*.xlsx", true, "windows")!,
    /separate folders with '\/'/,
  );
  assert.match(
    filterPatternProblem("--exclude", "!*.iso", true)!,
    /^it begins with '!', .* none is: to keep only what '\*\.iso' matches, write --include '\*\.iso'/,
  );
  assert.match(filterPatternProblem("--include", "!a", true)!, /write --exclude 'a'/);
  // After a pattern of its option, '!' makes an exception to it; an escaped '!' is a name.
  assert.equal(filterPatternProblem("--include", "!a", false), undefined);
  assert.equal(filterPatternProblem("--include", "\\!a", true), undefined);
  assert.equal(filterPatternProblem("--include", "node_modules/", true), undefined);
});

Deno.test("checkFilterPatterns: a UsageError naming the option and the value", () => {
  assert.throws(
    () => checkFilterPatterns("ls", { include: ["*.pdf"], exclude: ["*.iso", "[x"] }),
    (e: unknown) =>
      e instanceof UsageError &&
      /^Invalid --exclude '\[x': it has a '\[' .*: see 'ls --help'$/.test(e.message),
  );
  checkFilterPatterns("ls", { include: ["*.pdf", "!a.pdf"], exclude: [] });
});

Deno.test("PatternHits: each pattern alone, whatever the others keep; an include unmatched a problem, an exclude a note", () => {
  const f = new PathFilter({ include: ["*.xlsx"], exclude: ["*.xlsx", "*.pdf"] });
  const hits = new PatternHits(f);
  assert.deepEqual(hits.unmatched, [], "nothing asked for yet: nothing to say");
  assert.deepEqual(hits.said("in the backup"), { problems: [], notes: [] });
  assert.equal(hits.note("src/a.xlsx"), false);
  assert.equal(hits.note("src/b.txt"), false);
  assert.deepEqual(hits.unmatched, [{ option: "--exclude", pattern: "*.pdf" }]);
  // The exclude that matched nothing is a note; the two that matched keep nothing together.
  const { problems, notes } = hits.said("under 'docs'");
  assert.equal(notes.length, 1);
  assert.match(
    notes[0],
    /^--exclude '\*\.pdf' matches no file under 'docs': it leaves nothing out \(it is matched against each file's path inside its source/,
  );
  assert.deepEqual(problems, [
    "--include '*.xlsx' --exclude '*.xlsx' leave no file under 'docs'; each matches some, and " +
    "together they keep none: see 'ls' without them for what there is",
  ]);
  hits.note("src/x/c.PDF");
  assert.deepEqual(hits.unmatched, []);
  assert.equal(hits.said("in the backup").notes.length, 0);
  // An include that matched nothing is a problem; the files the other keeps are kept.
  const two = new PatternHits(new PathFilter({ include: ["*.xlsx", "*.docx"], exclude: [] }));
  assert.equal(two.note("src/a.xlsx"), true);
  assert.equal(two.note("src/b.txt"), false);
  assert.deepEqual(two.said("in the backup").notes, []);
  const [line, ...more] = two.said("in the backup").problems;
  assert.match(
    line,
    /^--include '\*\.docx' matches no file in the backup; correct it or leave it out \(/,
  );
  assert.deepEqual(more, []);
  // Every include unmatched: their lines say why nothing is kept, no line more.
  const none = new PatternHits(new PathFilter({ include: ["*.docx"], exclude: ["*.iso"] }));
  none.note("src/a.xlsx");
  assert.equal(none.said("in the backup").problems.length, 1);
  assert.equal(none.said("in the backup").notes.length, 1);
});

Deno.test("PatternHits: a pattern that begins with a source's name is told to give the source as a PATH", () => {
  const hits = new PatternHits(new PathFilter({ include: ["alpha/docs/*.xlsx"], exclude: [] }));
  hits.note("alpha/docs/a.xlsx");
  hits.note("beta/b.txt");
  assert.match(
    hits.said("in the backup").problems[0],
    /'alpha' is a source's name, not a folder in one: give 'alpha' as a PATH, with --include 'docs\/\*\.xlsx'\)$/,
  );
  assert.equal(sourceHint("--exclude", "/Alpha/x/", ["alpha"])?.includes("'x/'"), true);
  assert.equal(sourceHint("--exclude", "alpha/", ["alpha"]), undefined); // any folder alpha
  assert.equal(sourceHint("--exclude", "docs/x", ["alpha"]), undefined);
});

Deno.test("PatternHits: an include matching only a path of another moment names it instead of asking to correct it", () => {
  const hits = new PatternHits(new PathFilter({ include: ["*.pdf", "*.txt"], exclude: [] }));
  assert.equal(hits.wantsOthers, true);
  hits.note("src/a.txt"); // "*.txt" met: no longer looked for elsewhere
  hits.noteOther("src/old/a.pdf");
  assert.equal(hits.wantsOthers, false);
  hits.noteOther("src/old/b.pdf"); // the first one found is named
  const [line, ...more] = hits.said("in the backup").problems;
  assert.equal(
    line,
    "--include '*.pdf' matches no file in the backup; it matches 'src/old/a.pdf', recorded at " +
      "other moments only (deleted since, or backed up later): 'history src/old/a.pdf' lists " +
      "them; give --at one of them",
  );
  assert.deepEqual(more, []);
});

Deno.test("PatternHits: a '!' exception below a folder a pattern before it matches is a note; one that takes a file back, or follows one taking the folder back, none", () => {
  const said = (exclude: string[], ...paths: string[]) => {
    const hits = new PatternHits(new PathFilter({ include: [], exclude }));
    for (const p of paths) hits.note(p);
    return hits.said("in the backup").notes;
  };
  const [note, ...more] = said(["docs/", "!docs/a.txt"], "src/docs/a.txt", "src/b.txt");
  assert.match(note, /^--exclude '!docs\/a\.txt' takes no file back in the backup: .* 'docs\/'/);
  assert.match(note, /write 'docs\/\*\*' instead of 'docs\/'/);
  assert.deepEqual(more, []);
  assert.deepEqual(said(["docs/**", "!docs/a.txt"], "src/docs/a.txt"), []);
  assert.deepEqual(said(["docs/", "!docs/", "!docs/a.txt"], "src/docs/a.txt"), []);
  // Blocked below one folder, taken back elsewhere: it does something, no note.
  assert.deepEqual(said(["old/", "*.log", "!keep.log"], "src/old/keep.log", "src/keep.log"), []);
  // Matching nothing excluded: nothing to take back, nothing said.
  assert.deepEqual(said(["*.tmp", "!a.txt"], "src/a.txt", "src/b.tmp"), []);
});

Deno.test("PatternHits: a '!' pattern that matches nothing is a note, an include's or an exclude's", () => {
  const hits = new PatternHits(
    new PathFilter({ include: ["*.xlsx", "!~$*"], exclude: ["*.tmp", "!keep.tmp"] }),
  );
  hits.note("src/a.xlsx");
  hits.note("src/b.tmp");
  const { problems, notes } = hits.said("in the backup");
  assert.deepEqual(problems, []);
  assert.equal(notes.length, 2);
  assert.match(
    notes[0],
    /^--include '!~\$\*' matches no file in the backup: it leaves nothing out/,
  );
  assert.match(
    notes[1],
    /^--exclude '!keep\.tmp' matches no file in the backup: it takes nothing back/,
  );
});
