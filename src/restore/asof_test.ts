/** Unit tests of as-of resolution and the `--at` parser: tables of rows, no disk. */
import assert from "node:assert/strict";
import type { StoredCopy } from "../state/store.ts";
import {
  findElsewhere,
  isLocalTime,
  isWithin,
  parseAt,
  type Resolution,
  selectContents,
  type Selector,
} from "./asof.ts";

let nextId = 1;
function copy(path: string, seq: number, from: number, to: number | null, extra = {}): StoredCopy {
  return {
    id: nextId++,
    path,
    seq,
    kind: "file",
    hash: `h-${path}-${seq}`,
    algo: "sha256",
    size: 1,
    mtimeMs: from - 1,
    mode: 0o100644,
    linkTarget: null,
    location: to === null ? "latest" : "version",
    storedAt: to === null ? path : `versions/${path}/v${seq}.bak`,
    validFrom: from,
    validTo: to,
    prunedAt: null,
    ...extra,
  };
}

/**
 * Picks, per path, the content the selector names, from `rows`, as a restore does (see
 * select.ts): a content whose own copy is gone is looked for among `everything`.
 */
function resolveAsOf(
  rows: readonly StoredCopy[],
  sel: Selector,
  everything: () => Iterable<StoredCopy> = () => rows,
): Resolution {
  const { stored, gone } = selectContents(rows, sel);
  if (gone.length === 0) return { copies: stored, unavailable: [] };
  const elsewhere = findElsewhere(gone, everything());
  const copies = [...stored, ...elsewhere.copies].sort((a, b) => a.path < b.path ? -1 : 1);
  return { copies, unavailable: elsewhere.unavailable };
}

// a.txt: v1 [100, 200), v2 [200, 300) pruned at 400, v3 [300, ∞)
// b.txt: v1 [100, 250) then deleted; c.txt: v1 [250, ∞); d.txt: same-instant v1 [300, 300)
const ROWS: StoredCopy[] = [
  copy("s/a.txt", 1, 100, 200),
  copy("s/a.txt", 2, 200, 300, { location: "pruned", storedAt: null, prunedAt: 400 }),
  copy("s/a.txt", 3, 300, null),
  copy("s/b.txt", 1, 100, 250, { location: "deleted", storedAt: "_deleted/b.txt" }),
  copy("s/c.txt", 1, 250, null),
  copy("s/d.txt", 1, 300, 300),
  copy("s/d.txt", 2, 300, null),
];

function picked(sel: Selector): string[] {
  const r = resolveAsOf(ROWS, sel);
  return [
    ...r.copies.map((c) => `${c.path}@${c.seq}`),
    ...r.unavailable.map((u) => `!${u.copy.path}@${u.copy.seq}`),
  ];
}

Deno.test("resolveAsOf: the tree at each moment, intervals half-open", () => {
  const cases: [number, string[]][] = [
    [99, []],
    [100, ["s/a.txt@1", "s/b.txt@1"]],
    [199, ["s/a.txt@1", "s/b.txt@1"]],
    [200, ["s/b.txt@1", "!s/a.txt@2"]],
    [250, ["s/c.txt@1", "!s/a.txt@2"]],
    [300, ["s/a.txt@3", "s/c.txt@1", "s/d.txt@2"]],
    [10_000, ["s/a.txt@3", "s/c.txt@1", "s/d.txt@2"]],
  ];
  for (const [time, expected] of cases) {
    assert.deepEqual(picked({ kind: "at", time }), expected, `at ${time}`);
  }
});

Deno.test("resolveAsOf: latest leaves deleted paths out", () => {
  assert.deepEqual(picked({ kind: "latest" }), ["s/a.txt@3", "s/c.txt@1", "s/d.txt@2"]);
});

Deno.test("resolveAsOf: a version by number, pruned ones reported with the reason", () => {
  assert.deepEqual(picked({ kind: "version", path: "s/a.txt", seq: 1 }), ["s/a.txt@1"]);
  assert.deepEqual(picked({ kind: "version", path: "s/a.txt", seq: 9 }), []);
  const r = resolveAsOf(ROWS, { kind: "version", path: "s/a.txt", seq: 2 });
  assert.equal(r.unavailable.length, 1);
  assert.match(r.unavailable[0].reason, /pruned by retention at 1970-01-01T00:00:00\.400Z/);
});

Deno.test("resolveAsOf: a gone copy whose bytes are stored elsewhere is restored from there", () => {
  const rows = [
    copy("s/a.txt", 1, 100, 200, { location: "lost", storedAt: null, hash: "same" }),
    copy("s/a.txt", 2, 200, null),
    copy("s/z.txt", 1, 100, null, {
      location: "duplicate",
      storedAt: "_duplicates/z.txt",
      hash: "same",
    }),
    copy("s/b.txt", 1, 100, null, { hash: "same" }),
    copy("s/l", 1, 100, 200, { kind: "symlink", location: "pruned", storedAt: null, hash: "same" }),
  ];
  const r = resolveAsOf(rows, { kind: "at", time: 150 });
  const a = r.copies.find((c) => c.path === "s/a.txt")!;
  // Its own numbers, times and mode; the bytes from the first stored copy of that content.
  assert.deepEqual([a.seq, a.validFrom, a.storedAt], [1, 100, "_duplicates/z.txt"]);
  // Same digest but another kind (a symlink's text) is not the same content.
  assert.deepEqual(r.unavailable.map((u) => u.copy.path), ["s/l"]);
});

Deno.test("resolveAsOf: overlapping intervals (a damaged state) pick the newest content", () => {
  const rows = [copy("s/x", 1, 0, null), copy("s/x", 2, 0, null)];
  assert.deepEqual(resolveAsOf(rows, { kind: "latest" }).copies.map((c) => c.seq), [2]);
});

Deno.test("isWithin: files, folders, everything; no false prefix matches", () => {
  assert.ok(isWithin("s/a/b.txt", []));
  assert.ok(isWithin("s/a/b.txt", [""]));
  assert.ok(isWithin("s/a/b.txt", ["s/a"]));
  assert.ok(isWithin("s/a/b.txt", ["s/a/b.txt"]));
  assert.ok(!isWithin("s/ab/c.txt", ["s/a"]));
  assert.ok(!isWithin("s/a.txt", ["s/a"]));
});

Deno.test("parseAt: UTC, offsets, fractions", () => {
  const utc = Date.UTC(2026, 10, 28, 18, 0, 0);
  assert.equal(parseAt("2026-11-28T18:00:00Z"), utc);
  assert.equal(parseAt("2026-11-28t18:00z"), utc);
  assert.equal(parseAt("2026-11-28T19:00:00+01:00"), utc);
  assert.equal(parseAt("2026-11-28T19:30:00+0130"), utc);
  assert.equal(parseAt("2026-11-28T13:00:00-05"), utc);
  assert.equal(parseAt("2026-11-28T18:00:00.5Z"), utc + 500);
  assert.equal(parseAt("2026-11-28T18:00:00.123456Z"), utc + 123);
  assert.equal(parseAt("2026-11-28 18:00:00Z"), utc);
});

Deno.test("parseAt: a duration is that long before now", () => {
  const now = Date.UTC(2026, 11, 5, 12, 0, 0);
  assert.equal(parseAt("90m", now), now - 90 * 60_000);
  assert.equal(parseAt("2h", now), now - 2 * 3_600_000);
  assert.equal(parseAt(" 3D ", now), Date.UTC(2026, 11, 2, 12, 0, 0));
  assert.equal(parseAt("1w2d", now), Date.UTC(2026, 10, 26, 12, 0, 0));
  assert.equal(parseAt("1h30m15s", now), now - 5_415_000);
  assert.equal(parseAt("0s", now), now);
  for (const bad of ["2", "h", "2 h", "2h ago", "-2h", "1.5h", "2y", "1h-", "99999999999w"]) {
    assert.equal(parseAt(bad, now), undefined, bad);
  }
});

Deno.test("parseAt: local time when no zone is given", () => {
  assert.equal(parseAt("2026-11-28T18:00"), new Date(2026, 10, 28, 18, 0).getTime());
  assert.equal(parseAt("2026-11-28T18:00:07"), new Date(2026, 10, 28, 18, 0, 7).getTime());
});

Deno.test("parseAt: a date alone is the last millisecond of that day", () => {
  assert.equal(parseAt("2026-11-28Z"), Date.UTC(2026, 10, 29) - 1);
  assert.equal(parseAt("2026-11-28"), new Date(2026, 10, 29).getTime() - 1);
  assert.equal(parseAt("2026-12-31Z"), Date.UTC(2027, 0, 1) - 1);
});

Deno.test("parseAt: years 0000 to 0099 mean those years, not 1900 to 1999", () => {
  // ISO strings that `Date` parses itself are the independent reference here.
  const iso = (text: string) => new Date(text).getTime();
  assert.equal(parseAt("0099-12-31Z"), iso("0099-12-31T23:59:59.999Z"));
  assert.equal(parseAt("0099-12-31"), iso("0100-01-01T00:00:00") - 1);
  assert.equal(parseAt("0100-01-01Z"), iso("0100-01-01T23:59:59.999Z"));
  assert.equal(parseAt("0000-01-01T00:00:00Z"), iso("0000-01-01T00:00:00Z"));
  assert.equal(parseAt("0001-01-01T00:00Z"), -62_135_596_800_000);
  assert.equal(parseAt("0050-06-15T12:34:56.789Z"), iso("0050-06-15T12:34:56.789Z"));
  assert.equal(parseAt("0050-06-15t12:34:56,7z"), iso("0050-06-15T12:34:56.700Z"));
  assert.equal(parseAt("0050-06-15 14:34+02:00"), iso("0050-06-15T12:34:00Z"));
  assert.equal(parseAt("0050-06-15T14:34+0200"), iso("0050-06-15T12:34:00Z"));
  assert.equal(parseAt("0050-06-15T14:34+02"), iso("0050-06-15T12:34:00Z"));
  assert.equal(parseAt("0050-06-15T08:04:00-04:30"), iso("0050-06-15T12:34:00Z"));
  assert.equal(parseAt("0050-06-15T12:34"), iso("0050-06-15T12:34:00"));
  assert.equal(parseAt("0050-06-15T12:34:56"), iso("0050-06-15T12:34:56"));
  // The date is checked in that year's calendar: 0 and 96 are leap years, 100 and 1 not.
  assert.equal(parseAt("0000-02-29Z"), iso("0000-02-29T23:59:59.999Z"));
  assert.equal(parseAt("0096-02-29T12:00Z"), iso("0096-02-29T12:00:00Z"));
  for (
    const bad of ["0100-02-29", "0001-02-29Z", "0099-13-01", "0099-12-32", "0099-12-31T24:00Z"]
  ) {
    assert.equal(parseAt(bad), undefined, bad);
  }
  // The year after 0099 is 0100, with no gap or jump between them.
  assert.equal(parseAt("0100-01-01T00:00:00Z")! - parseAt("0099-12-31T23:59:59.999Z")!, 1);
});

Deno.test("parseAt: years around 1970 and later are unchanged", () => {
  assert.equal(parseAt("1969-12-31T23:59:59.999Z"), -1);
  assert.equal(parseAt("1970-01-01Z"), 86_400_000 - 1);
  assert.equal(parseAt("1900-01-01T00:00Z"), Date.UTC(1900, 0, 1));
  assert.equal(parseAt("1999-12-31T23:00"), new Date(1999, 11, 31, 23, 0).getTime());
  assert.equal(parseAt("9999-12-31Z"), Date.UTC(10000, 0, 1) - 1);
});

Deno.test("parseAt: rejects what is not a valid ISO-8601 time", () => {
  for (
    const bad of [
      "",
      "yesterday",
      "2026-13-01",
      "2026-02-30",
      "2026-11-28T24:00:00Z",
      "2026-11-28T18:60Z",
      "2026-11-28T18:00:00+25:00",
      "28/11/2026",
      "1764352800000",
      "2026-11-28T18",
    ]
  ) {
    assert.equal(parseAt(bad), undefined, bad);
  }
});

Deno.test("isLocalTime: a time without Z or an offset", () => {
  assert.equal(isLocalTime("2026-11-28T18:00"), true);
  assert.equal(isLocalTime("2026-11-28"), true);
  assert.equal(isLocalTime("2026-11-28T18:00Z"), false);
  assert.equal(isLocalTime("2026-11-28T18:00+05:30"), false);
  assert.equal(isLocalTime("2026-11-28T18:00-0500"), false);
  assert.equal(isLocalTime("2026-11-28z"), false);
});
