/**
 * `vanishedFrom`: a source file found gone when a pass opened or looked at it again is not
 * a failure (`SKIP VANISHED`), even when a file of its name is there again by the time the
 * pass asks (`git checkout` removes each file it changes and writes it anew: a `run` or a
 * watch's pass meanwhile logged `ERROR: …: No such file or directory … open '…'` for a
 * file that exists, and `run` exited 1); a file missing elsewhere (the staging folder, a
 * stored copy) stays one.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import fs from "node:fs";
import { vanishedFrom } from "./fsops.ts";
import { denoOpen, nodeOpener, type Opener, openSource } from "./source_file.ts";
import { withDir } from "../test_util.ts";

const OPENERS: [string, Opener][] = [
  ["openSource", openSource],
  ["node:fs", nodeOpener(fs)],
  ["Deno", denoOpen],
];

/** The error `look` throws for `path`, which must not exist. */
function failure(look: () => unknown): Error {
  try {
    look();
  } catch (e) {
    return e as Error;
  }
  throw new Error("it did not fail");
}

for (const [name, open] of OPENERS) {
  Deno.test(
    `vanishedFrom (${name}): a file gone at its open and made again since has vanished`,
    withDir((dir) => {
      const abs = join(dir, "a.txt");
      const e = failure(() => open(abs)[Symbol.dispose]());
      Deno.writeTextFileSync(abs, "written anew\n");
      assert.equal(vanishedFrom(e, abs, open), true, e.message);
    }),
  );
}

Deno.test(
  "vanishedFrom: a file gone at its second look (it changed while read) and made again since has vanished",
  withDir((dir) => {
    const abs = join(dir, "a.txt");
    const e = failure(() => Deno.lstatSync(abs));
    Deno.writeTextFileSync(abs, "written anew\n");
    assert.equal(vanishedFrom(e, abs, openSource), true, e.message);
  }),
);

Deno.test(
  "vanishedFrom: a file its folder is gone from, made again since, has vanished",
  withDir((dir) => {
    const abs = join(dir, "d", "a.txt");
    const e = failure(() => openSource(abs));
    Deno.mkdirSync(join(dir, "d"));
    Deno.writeTextFileSync(abs, "written anew\n");
    assert.equal(vanishedFrom(e, abs, openSource), true, e.message);
  }),
);

Deno.test(
  "vanishedFrom: something else missing (the staging folder) is a failure, the source there",
  withDir((dir) => {
    const abs = join(dir, "a.txt");
    Deno.writeTextFileSync(abs, "here\n");
    const e = failure(() =>
      Deno.openSync(join(dir, "tmp", "1.tmp"), { write: true, create: true })
    );
    assert.equal(vanishedFrom(e, abs, openSource), false, e.message);
    // Nor is a path that merely starts with the source's.
    const longer = failure(() => Deno.lstatSync(`${abs}.tmp`));
    assert.equal(vanishedFrom(longer, abs, openSource), false, longer.message);
  }),
);

Deno.test(
  "vanishedFrom: a file gone and still gone has vanished, whatever the failed call named",
  withDir((dir) => {
    const abs = join(dir, "a.txt");
    assert.equal(vanishedFrom(new Deno.errors.NotFound("gone"), abs, openSource), true);
  }),
);

Deno.test(
  "vanishedFrom: a file there that every open finds missing (a FUSE or network disk) is a failure",
  withDir((dir) => {
    const abs = join(dir, "a.txt");
    Deno.writeTextFileSync(abs, "listed, never given\n");
    const missing = (path: string): Disposable => {
      throw new Deno.errors.NotFound(`No such file or directory (os error 2): open '${path}'`);
    };
    const e = failure(() => missing(abs));
    assert.equal(vanishedFrom(e, abs, missing), false, e.message);
    // Missing at the second open because it is gone again: vanished.
    const gone = (path: string): Disposable => {
      Deno.removeSync(path);
      return missing(path);
    };
    assert.equal(vanishedFrom(e, abs, gone), true, e.message);
  }),
);
