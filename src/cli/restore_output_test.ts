/** Unit tests of restore's console output (restore_output.ts). */
import assert from "node:assert/strict";
import { printRestore, RestoreTally } from "./restore_output.ts";
import { storedCopy } from "../restore/test_copies.ts";
import type { RestoreResult } from "../restore/restore_item.ts";

/** What `body` writes on stdout and stderr, as text. */
function captured(body: () => void): { stdout: string; stderr: string } {
  const dec = new TextDecoder();
  const out = { stdout: "", stderr: "" };
  const [o, e] = [Deno.stdout.writeSync, Deno.stderr.writeSync];
  Deno.stdout.writeSync = (p: Uint8Array) => (out.stdout += dec.decode(p), p.length);
  Deno.stderr.writeSync = (p: Uint8Array) => (out.stderr += dec.decode(p), p.length);
  try {
    body();
  } finally {
    [Deno.stdout.writeSync, Deno.stderr.writeSync] = [o, e];
  }
  return out;
}

/** A file to restore named `name`, bound for the disk at `base`. */
const file = (name: string, base: string) => ({
  copy: storedCopy(name, `${name}\n`),
  dest: `${base}/${name}`,
  base,
  toDir: false,
});

/** A tally of one file restored on /b, and one refused and two not tried on the full /a. */
function tallyWithFullDisk(): RestoreTally {
  const tally = new RestoreTally(false);
  const error = "No space left on device (os error 28): open '/a/.x.tmp'";
  const full = (skipped: boolean) => ({ at: "/a", error, skipped });
  const results: RestoreResult[] = [
    { ...file("b1", "/b"), outcome: "restored" },
    { ...file("a1", "/a"), outcome: "failed", reason: error, fullDisk: full(false) },
    { ...file("a2", "/a"), outcome: "failed", reason: "not tried", fullDisk: full(true) },
    { ...file("a3", "/a"), outcome: "failed", reason: "not tried", fullDisk: full(true) },
  ];
  for (const r of results) tally.add(r);
  return tally;
}

Deno.test("printRestore: a disk found full is one line with the counts, exit 1", () => {
  let code = -1;
  const out = captured(() => {
    code = printRestore(tallyWithFullDisk(), [], { json: false, quiet: true });
  });
  assert.equal(code, 1);
  assert.equal(out.stderr, "");
  assert.match(
    out.stdout,
    /^Restore stopped: no space left on device writing to '\/a': 1 restored, 0 up to date, 3 not restored \(2 of them not tried once the disk was full\); free space/,
  );
});

Deno.test("printRestore: stopped by a signal after a disk was found full, the stop line says that disk was full", () => {
  let code = -1;
  const out = captured(() => {
    code = printRestore(tallyWithFullDisk(), [], { json: false, quiet: false, stoppedCode: 130 });
  });
  assert.equal(code, 130);
  assert.equal(out.stdout.match(/^Restore /gm)?.length, 1, out.stdout);
  assert.match(
    out.stdout,
    /^Restore stopped before it finished: 1 restored, 0 up to date, 3 not restored/m,
  );
  // The files counted as not restored are said to be the full disk's, with the remedy.
  assert.match(
    out.stdout,
    /\(2 of them not tried once the disk was full: no space left on device writing to '\/a'\); free space/,
  );
});

Deno.test("printRestore: a full disk is a quota by the system's words, not by a path's (Quotations/)", () => {
  const line = (at: string, error: string) => {
    const tally = new RestoreTally(false);
    const copy = storedCopy("q1", "q1\n");
    const fullDisk = { at, error, skipped: false };
    tally.add({
      copy,
      dest: `${at}/q1`,
      base: at,
      toDir: true,
      outcome: "failed",
      reason: error,
      fullDisk,
    });
    return captured(() => printRestore(tally, [], { json: false, quiet: true })).stdout;
  };
  const at = "/home/u/Quotations";
  const space = line(at, `No space left on device (os error 28): open '${at}/.x.tmp'`);
  assert.match(
    space,
    /^Restore stopped: no space left on device writing to '\/home\/u\/Quotations'/,
  );
  const quota = line(
    at,
    `Cannot create folder '${at}/x': Disk quota exceeded (os error 122): '${at}/x'`,
  );
  assert.match(quota, /^Restore stopped: disk quota exceeded writing to/);
});

Deno.test("printRestore: a disk found full at the last write says no count of files not tried", () => {
  const tally = new RestoreTally(false);
  const error = "No space left on device (os error 28): open '/a/.x.tmp'";
  tally.add({ ...file("a1", "/a"), outcome: "restored" });
  tally.add({
    ...file("a2", "/a"),
    outcome: "failed",
    reason: error,
    fullDisk: { at: "/a", error, skipped: false },
  });
  const line = (stoppedCode?: number) =>
    captured(() => printRestore(tally, [], { json: false, quiet: true, stoppedCode })).stdout;
  assert.match(
    line(),
    /^Restore stopped: no space left on device writing to '\/a': 1 restored, 0 up to date, 1 not restored; free space/,
  );
  assert.match(
    line(130),
    /1 not restored \(no space left on device writing to '\/a'\); free space/,
  );
  assert.doesNotMatch(line() + line(130), /not tried/);
});
