/**
 * A prune (retention's, or purge's) deletes the copy recorded, and nothing else standing in
 * its place: a symlink where a file's copy was, a file where a symlink's was (left as
 * absent), a symlink to another target than recorded (left as damaged). A journal of an
 * earlier version, which records neither kind, deletes as before. Real files in a
 * temporary folder, through the executor (execute.ts `finishAction`).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { finishAction } from "./execute.ts";
import { loadDigests } from "./digest.ts";
import { hashText } from "./stage.ts";
import { withDir } from "./test_util.ts";
import type { Action } from "../core/types.ts";

const at = "versions/l/v1.bak";

function prune(extra: Partial<Extract<Action, { type: "prune" }>>) {
  return { type: "prune" as const, path: "src/l", copyId: 1, seq: 1, storedAt: at, ...extra };
}

async function link(target: string) {
  await loadDigests();
  return { link: { hash: hashText(target, "sha256"), algo: "sha256" } };
}

function place(root: string, make: (abs: string) => void): string {
  Deno.mkdirSync(join(root, "versions", "l"), { recursive: true });
  const abs = join(root, ...at.split("/"));
  make(abs);
  return abs;
}

Deno.test(
  "prune: a symlink's copy is deleted; a file or another target in its place is left",
  withDir(async (root) => {
    const copy = place(root, (abs) => Deno.symlinkSync("t1", abs));
    const ours = prune(await link("t1"));
    await finishAction(root, ours);
    assert.throws(() => Deno.lstatSync(copy), Deno.errors.NotFound);
    assert.equal(ours.absent, undefined);

    const file = place(root, (abs) => Deno.writeTextFileSync(abs, "mine"));
    const onFile = prune(await link("t1"));
    await finishAction(root, onFile);
    assert.equal(Deno.readTextFileSync(file), "mine");
    assert.deepEqual([onFile.absent, onFile.damaged], [true, undefined]);
    Deno.removeSync(file);

    const other = place(root, (abs) => Deno.symlinkSync("t2", abs));
    const onOther = prune(await link("t1"));
    await finishAction(root, onOther);
    assert.equal(Deno.readLinkSync(other), "t2");
    assert.deepEqual([onOther.absent, onOther.damaged], [true, true]);
  }),
);

Deno.test(
  "prune: a symlink in the place of a file's copy is left; without a kind, any is deleted",
  withDir(async (root) => {
    const recorded = { size: 4, mtimeMs: 0, hash: "x", algo: "sha256" };
    const abs = place(root, (p) => Deno.symlinkSync("t1", p));
    const onLink = prune({ recorded });
    await finishAction(root, onLink);
    assert.equal(Deno.readLinkSync(abs), "t1");
    assert.equal(onLink.absent, true);
    // A journal of an earlier version: neither recorded nor link.
    await finishAction(root, prune({}));
    assert.throws(() => Deno.lstatSync(abs), Deno.errors.NotFound);
  }),
);
