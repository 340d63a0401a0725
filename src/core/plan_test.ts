/** Table tests of the planner as a pure function: scan + state (as literals) → actions. */
import assert from "node:assert/strict";
import { createPlanner, needsHash, type PlanInput, type PlanView } from "./plan.ts";
import type { Action, ScanEntry, TrackedFile } from "./types.ts";

const ALGO = "sha256";
const PREFIXES = new Map([["src", ""]]);

function entry(path: string, size = 1, extra: Partial<ScanEntry> = {}): ScanEntry {
  return {
    path,
    abs: `/x/${path}`,
    kind: "file",
    size,
    mtimeMs: 1000,
    ctimeMs: 1000,
    ino: 1,
    dev: 1,
    mode: 0o100644,
    ...extra,
  };
}

function tracked(path: string, hash: string, storedAt: string, seq = 1): TrackedFile {
  const e = entry(path);
  return {
    ...e,
    hash,
    algo: ALGO,
    trusted: true,
    copyId: seq * 100,
    seq,
    storedAt,
    status: "current",
  };
}

/** Literal state: the planner's view, plus the tracked files the pass would hand over. */
type TestView = PlanView & { files: TrackedFile[] };

/** A view over literal state: tracked files, extra stored copies, the highest seq per path. */
function view(
  files: TrackedFile[],
  stored: string[] = [],
  seqs: Record<string, number> = {},
): TestView {
  const all = [...files.map((f) => f.storedAt), ...stored];
  return {
    files,
    holdersOf: (h) =>
      files.filter((f) => f.hash === h && f.kind === "file").map((f) => f.path).sort(),
    lastSeq: (p) => seqs[p] ?? files.find((f) => f.path === p)?.seq ?? 0,
    recordedUnder: (dir) =>
      [...files.map((f) => f.path), ...Object.keys(seqs)].some((p) => p.startsWith(`${dir}/`)),
    isFile: (p) => all.includes(p),
    isDir: (p) => all.some((s) => s.startsWith(`${p}/`)),
    storedCountBelow: (p) => all.filter((s) => s.startsWith(`${p}/`)).length,
  };
}

function hashed(path: string, hash: string, size = 1): PlanInput {
  const e = entry(path, size);
  return { entry: e, hashed: { entry: e, hash, tmp: `/tmp/${path}` } };
}

function plan(v: TestView, deletes: string[], inputs: PlanInput[]): Action[] {
  const p = createPlanner(v, { algo: ALGO, prefixes: PREFIXES });
  const find = (path: string) => v.files.find((f) => f.path === path);
  return [
    ...deletes.map((d) => p.planDelete(find(d)!)),
    ...inputs.map((i) => p.planEntry({ ...i, tracked: find(i.entry.path) })),
  ];
}

const brief = (a: Action) =>
  a.type === "skip"
    ? `skip ${a.path}`
    : a.type === "delete"
    ? `delete ${a.from} -> ${a.to}`
    : a.type === "modified"
    ? `modified ${a.archive.from} -> ${a.archive.to}; ${a.target} #${a.seq}`
    : a.type === "duplicate"
    ? `duplicate ${a.target} of ${a.original} #${a.seq}`
    : a.type === "backup"
    ? `backup ${a.target} #${a.seq}`
    : a.type;

const cases: {
  name: string;
  view: TestView;
  deletes?: string[];
  inputs: PlanInput[];
  want: string[];
}[] = [
  {
    name: "new files are backed up at their own path; the later equal one is a duplicate",
    view: view([]),
    inputs: [hashed("src/a.txt", "H"), hashed("src/b/c.txt", "H"), hashed("src/d.txt", "D")],
    want: ["backup a.txt #1", "duplicate _duplicates/b/c.txt of src/a.txt #1", "backup d.txt #1"],
  },
  {
    name: "a file holding a symlink's target text is not its duplicate, nor the other way",
    view: view([]),
    inputs: [
      {
        entry: entry("src/a", 3, { kind: "symlink", linkTarget: "b/c" }),
        hashed: { entry: entry("src/a", 3, { kind: "symlink" }), hash: "T", tmp: "/tmp/a" },
      },
      hashed("src/b", "T", 3),
      {
        entry: entry("src/c", 3, { kind: "symlink", linkTarget: "b/c" }),
        hashed: { entry: entry("src/c", 3, { kind: "symlink" }), hash: "T", tmp: "/tmp/c" },
      },
    ],
    want: ["backup a #1", "backup b #1", "backup c #1"],
  },
  {
    name: "empty files are never duplicates",
    view: view([]),
    inputs: [hashed("src/a", "E", 0), hashed("src/b", "E", 0)],
    want: ["backup a #1", "backup b #1"],
  },
  {
    name: "unchanged fingerprint is a skip without reading",
    view: view([tracked("src/a.txt", "H", "a.txt")]),
    inputs: [{ entry: entry("src/a.txt") }],
    want: ["skip src/a.txt"],
  },
  {
    name: "same digest after a touch is a skip",
    view: view([tracked("src/a.txt", "H", "a.txt")]),
    inputs: [hashed("src/a.txt", "H")],
    want: ["skip src/a.txt"],
  },
  {
    name: "changed content archives the current copy as vN and places the new one",
    view: view([tracked("src/a.txt", "H", "a.txt", 3)]),
    inputs: [hashed("src/a.txt", "H2")],
    want: ["modified a.txt -> versions/a.txt/v3.bak; a.txt #4"],
  },
  {
    name: "content numbers are never reused after a deletion",
    view: view([], ["_deleted/a.txt"], { "src/a.txt": 5 }),
    inputs: [hashed("src/a.txt", "N")],
    want: ["backup a.txt #6"],
  },
  {
    name: "a second deletion of a path gets a free name, never the first one's",
    view: view([tracked("src/a.txt", "H", "a.txt", 2)], ["_deleted/a.txt"]),
    deletes: ["src/a.txt"],
    inputs: [],
    want: ["delete a.txt -> _deleted/a.txt.~2"],
  },
  {
    name: "a file replaced by a folder of the same name: delete first, then the folder's files",
    view: view([tracked("src/a", "H", "a")]),
    deletes: ["src/a"],
    inputs: [hashed("src/a/b", "B")],
    want: ["delete a -> _deleted/a", "backup a/b #1"],
  },
  {
    name: "a folder replaced by a file of the same name, in one batch: the file gets the path",
    view: view([tracked("src/a/b", "B", "a/b"), tracked("src/a/c", "C", "a/c")]),
    deletes: ["src/a/b", "src/a/c"],
    inputs: [hashed("src/a", "A")],
    want: ["delete a/b -> _deleted/a/b", "delete a/c -> _deleted/a/c", "backup a #1"],
  },
  {
    name: "a folder that keeps a stored copy (a version) is not free for a file",
    view: view([tracked("src/a/b", "B", "a/b")], ["a/old"]),
    deletes: ["src/a/b"],
    inputs: [hashed("src/a", "A")],
    want: ["delete a/b -> _deleted/a/b", "backup a.~2 #1"],
  },
  {
    name: "a version slot taken by an old file is bumped at the colliding component",
    view: view([tracked("src/a/v1.bak", "H", "a/v1.bak")], ["versions/a/v1.bak"]),
    inputs: [hashed("src/a/v1.bak", "H2")],
    want: ["modified a/v1.bak -> versions/a/v1.bak.~2/v1.bak; a/v1.bak #2"],
  },
  {
    name: "a modified file whose new content equals another file becomes a duplicate",
    view: view([tracked("src/a", "A", "a"), tracked("src/b", "B", "b")]),
    inputs: [hashed("src/b", "A")],
    want: ["duplicate _duplicates/b of src/a #2"],
  },
  {
    name: "a path that changed away from a content no longer counts as its holder",
    view: view([tracked("src/a", "A", "a")]),
    inputs: [hashed("src/a", "Z"), hashed("src/b", "A")],
    want: ["modified a -> versions/a/v1.bak; a #2", "backup b #1"],
  },
];

for (const c of cases) {
  Deno.test(`planner: ${c.name}`, () => {
    assert.deepEqual(plan(c.view, c.deletes ?? [], c.inputs).map(brief), c.want);
  });
}

Deno.test("planner: the same inputs always give the same plan", () => {
  const inputs = [hashed("src/x", "1"), hashed("src/y", "1"), hashed("src/z", "2")];
  const a = plan(view([]), [], inputs);
  const b = plan(view([]), [], inputs);
  assert.deepEqual(a, b);
});

Deno.test("planner: copies committed earlier in the run occupy folders found empty before", () => {
  // The state as a set of stored paths, committed to between the entries.
  const stored = new Set<string>();
  const below = (p: string) => [...stored].filter((s) => s.startsWith(`${p}/`));
  const live: PlanView = {
    holdersOf: () => [],
    lastSeq: () => 0,
    recordedUnder: () => false,
    isFile: (p) => stored.has(p),
    isDir: (p) => below(p).length > 0,
    storedCountBelow: (p) => below(p).length,
  };
  const p = createPlanner(live, { algo: ALGO, prefixes: PREFIXES });
  const commit = (a: Action) => {
    if (a.type === "backup") stored.add(a.target);
    p.forget();
  };
  // "a" and "a/b" are asked about (and found empty) while "a/b/c" is placed.
  commit(p.planEntry(hashed("src/a/b/c", "1")));
  commit(p.planEntry(hashed("src/a/b/d", "2")));
  // A file now needs "a/b", a folder of this run's copies, and "a/b/c" itself.
  const wanted = [hashed("src/a/b", "3"), hashed("src/a/b/c", "4")].map((i) => p.planEntry(i));
  assert.deepEqual(wanted.map(brief), ["backup a/b.~2 #1", "backup a/b/c.~2 #1"]);
});

Deno.test("planner: what the disk holds where the state knows nothing is taken, case variants of vacated copies aside", () => {
  // A disk that ignores case: it shows the stored `Photos/x.jpg` at `photos/x.jpg` too, and
  // someone's own file at `notes.txt`.
  const stored = ["Photos/x.jpg", "Photos/y.jpg", "Report.txt"];
  const onDisk = [...stored, "notes.txt"];
  const foreignKind = (p: string) => {
    const q = p.toLowerCase();
    if (onDisk.some((d) => d.toLowerCase() === q)) return "file" as const;
    return onDisk.some((d) => d.toLowerCase().startsWith(`${q}/`)) ? "dir" as const : undefined;
  };
  const files = [
    tracked("src/Photos/x.jpg", "X", "Photos/x.jpg"),
    tracked("src/Photos/y.jpg", "Y", "Photos/y.jpg"),
    tracked("src/Report.txt", "R", "Report.txt"),
  ];
  // Renamed in case only (both vacate their copies), and a new file where the disk has one.
  const renamed = plan(
    { ...view(files), foreignKind },
    ["src/Photos/x.jpg", "src/Report.txt"],
    [
      hashed("src/notes.txt", "N"),
      hashed("src/photos/x.jpg", "X2"),
      hashed("src/report.txt", "R2"),
    ],
  );
  assert.deepEqual(renamed.map(brief).slice(2), [
    "backup notes.txt.~2 #1",
    "backup photos/x.jpg #1",
    "backup report.txt #1",
  ]);
  // A disk that tells entries apart (case-sensitive): someone's own `report.txt` beside
  // the vacated `Report.txt` is a foreign file, taken.
  const distinct = plan(
    { ...view(files), foreignKind, sameEntry: () => false },
    ["src/Report.txt"],
    [hashed("src/report.txt", "R2")],
  );
  assert.deepEqual(distinct.map(brief).slice(1), ["backup report.txt.~2 #1"]);
  // Not vacated (both names in one source, on a disk that ignores case): the variant is taken.
  const both = plan({ ...view(files), foreignKind }, [], [hashed("src/photos/y.jpg", "Y2")]);
  assert.deepEqual(both.map(brief), ["backup photos/y.jpg.~2 #1"]);
});

Deno.test("planner: names a case-ignoring disk may take for one (σ and ς, NFC and NFD) get .~2", () => {
  const inputs = [
    hashed("src/caf\u00e9.txt", "A"), // é as one code point
    hashed("src/cafe\u0301.txt", "B"), // e and a combining accent
    hashed("src/\u03c3.txt", "C"), // σ
    hashed("src/\u03c2.txt", "D"), // ς, upper-cased to Σ as σ is
  ];
  assert.deepEqual(plan({ ...view([]), ignoresCase: true }, [], inputs).map(brief), [
    "backup caf\u00e9.txt #1",
    "backup cafe\u0301.txt.~2 #1",
    "backup \u03c3.txt #1",
    "backup \u03c2.txt.~2 #1",
  ]);
});

Deno.test("planner: names differing only in case, placed in one run on a disk that ignores case, get .~2", () => {
  // A source on a disk that keeps case, backed up to one that ignores it: nothing is on
  // the backup disk yet, so only the planner's memory of this run can tell.
  const inputs = [
    hashed("src/Docs", "F"),
    hashed("src/README", "A"),
    hashed("src/docs/a.txt", "B"),
    hashed("src/readme", "C"),
    hashed("src/x/One.txt", "D"),
    hashed("src/X/one.txt", "E"),
  ];
  assert.deepEqual(plan({ ...view([]), ignoresCase: true }, [], inputs).map(brief), [
    "backup Docs #1",
    "backup README #1",
    "backup docs.~2/a.txt #1",
    "backup readme.~2 #1",
    "backup x/One.txt #1",
    "backup X/one.txt.~2 #1",
  ]);
  // A disk that keeps case stores each at its own name.
  assert.deepEqual(plan(view([]), [], inputs).map(brief), [
    "backup Docs #1",
    "backup README #1",
    "backup docs/a.txt #1",
    "backup readme #1",
    "backup x/One.txt #1",
    "backup X/one.txt #1",
  ]);
  // A file renamed in case only vacates its copy: the new name takes the place.
  const files = [tracked("src/Report.txt", "R", "Report.txt")];
  const renamed = plan({ ...view(files), ignoresCase: true }, ["src/Report.txt"], [
    hashed("src/report.txt", "R2"),
  ]);
  assert.deepEqual(renamed.map(brief), [
    "delete Report.txt -> _deleted/Report.txt",
    "backup report.txt #1",
  ]);
});

Deno.test("planner: on a disk that ignores case, a case variant placed in an earlier batch of the run is taken", () => {
  // What batches committed so far: in the state by their own names, on the disk by any case.
  const committed: string[] = [];
  const v: TestView = {
    ...view([]),
    isFile: (p) => committed.includes(p),
    isDir: (p) => committed.some((c) => c.startsWith(`${p}/`)),
    storedCountBelow: (p) => committed.filter((c) => c.startsWith(`${p}/`)).length,
    foreignKind: (p) => {
      const q = p.toLowerCase();
      if (committed.some((c) => c.toLowerCase() === q)) return "file";
      return committed.some((c) => c.toLowerCase().startsWith(`${q}/`)) ? "dir" : undefined;
    },
    ignoresCase: true,
  };
  const planner = createPlanner(v, { algo: ALGO, prefixes: PREFIXES });
  const batch = (inputs: PlanInput[]) => {
    const actions = inputs.map((i) => planner.planEntry(i));
    for (const a of actions) if (a.type === "backup") committed.push(a.target);
    planner.forget(); // committed
    return actions.map(brief);
  };
  assert.deepEqual(batch([hashed("src/Docs/z", "Z"), hashed("src/docs/a", "A")]), [
    "backup Docs/z #1",
    "backup docs/a #1",
  ]);
  assert.deepEqual(batch([hashed("src/docs/z", "Z2")]), ["backup docs/z.~2 #1"]);
});

Deno.test("needsHash: only new, changed, untrusted or re-algorithmed entries are read", () => {
  const opts = { algo: ALGO, prefixes: PREFIXES };
  const t = tracked("src/a", "H", "a");
  assert.equal(needsHash(entry("src/a"), undefined, opts), true);
  assert.equal(needsHash(entry("src/a"), t, opts), false);
  assert.equal(needsHash(entry("src/a", 2), t, opts), true);
  assert.equal(needsHash(entry("src/a", 1, { mtimeMs: 5 }), t, opts), true);
  assert.equal(needsHash(entry("src/a", 1, { ino: 9 }), t, opts), true);
  assert.equal(needsHash(entry("src/a"), { ...t, trusted: false }, opts), true);
  assert.equal(needsHash(entry("src/a"), { ...t, algo: "md5" }, opts), true);
  assert.equal(needsHash(entry("src/a"), t, { ...opts, rehash: true }), true);
});

Deno.test("planner: each promotion is planned as it is taken, so a commit between them lets it forget", () => {
  // Three contents held by duplicates only (their originals gone): one promotion each,
  // into a folder of its own, which the planner asks the view about when it plans it.
  const dups = ["a", "b", "c"].map((n) => ({
    path: `src/${n}/f`,
    storedAt: `_duplicates/${n}/f`,
  }));
  const asked: string[] = [];
  const v = view([], dups.map((d) => d.storedAt));
  const counted: PlanView = {
    ...v,
    isFile: (p) => (asked.push(p), v.isFile(p)),
    copiesHolding: (h) =>
      dups.filter((d) => h === `h-${d.path}`).map((d) => ({ ...d, location: "duplicate" })),
  };
  const p = createPlanner(counted, { algo: ALGO, prefixes: PREFIXES });
  const promotions = p.planPromotions(dups.map((d) => ({ hash: `h-${d.path}`, algo: ALGO })));
  const taken = promotions[Symbol.iterator]();
  const first = taken.next().value as Action;
  assert.equal(first.type === "promote" && first.to, "a/f");
  assert.ok(!asked.includes("b"), `the second promotion was planned already: ${asked}`);
  p.forget(); // as after a commit
  const rest = [...{ [Symbol.iterator]: () => taken }];
  assert.deepEqual(rest.map((a) => a.type === "promote" && `${a.from} -> ${a.to}`), [
    "_duplicates/b/f -> b/f",
    "_duplicates/c/f -> c/f",
  ]);
});
