/**
 * A restore killed at any moment (SIGKILL, through the test-only fault hook): a file under
 * its real name is always complete and right, whatever batch was being written or flushed;
 * what is left besides is only hidden temporary files; and running the restore again
 * finishes the tree. 1,300 files make three batches of 512, so kills land while a batch is
 * written, while the one before it is flushed, and between placements.
 */
import assert from "node:assert/strict";
import { join, relative, sep } from "node:path";
import { makeFixture, readTree } from "../helpers.ts";
import { runTool } from "./util.ts";

const FILES = 1300;
const TMP_NAME = /^\.backup-tool-restore-\d+-\d+\.tmp$/;

/** Every file under `root`: the real ones (path → text) and the temporary ones (paths). */
function restored(root: string): { files: Record<string, string>; temporary: string[] } {
  const out = { files: {} as Record<string, string>, temporary: [] as string[] };
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(dir)) {
      const abs = join(dir, e.name);
      const rel = relative(root, abs).split(sep).join("/");
      if (e.isDirectory) walk(abs);
      else if (TMP_NAME.test(e.name)) out.temporary.push(rel);
      else out.files[rel] = Deno.readTextFileSync(abs);
    }
  };
  try {
    walk(root);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e; // killed before the first folder
  }
  return out;
}

Deno.test("a restore killed at any moment leaves no partial file at a real name; running it again finishes it", async () => {
  const tree: Record<string, string> = {};
  for (let i = 0; i < FILES; i++) {
    tree[`d${i % 4}/s${i % 7}/f${i}.txt`] = `file ${i}\n${"y".repeat((i * 131) % 5000)}`;
  }
  using fx = makeFixture(tree);
  const cli = (args: string[], env: Record<string, string> = {}) =>
    runTool([...args, "--config", fx.config], { env });
  assert.equal((await cli(["run"])).code, 0);
  const source = readTree(fx.source);

  for (
    const fault of ["restoring:1", "restoring:700", "restored:1", "restored:600", "restored:1300"]
  ) {
    const out = join(fx.dir, `out-${fault.replace(":", "-")}`);
    const killed = await cli(["restore", "--to", out], { BACKUP_TOOL_FAULT: fault });
    assert.equal(killed.code, 137, `${fault}: ${killed.stderr}`);
    const after = restored(out);
    for (const [rel, text] of Object.entries(after.files)) {
      assert.equal(text, source[rel], `${fault}: '${rel}' is partial or wrong`);
    }
    const placed = Number(fault.split(":")[1]);
    if (fault.startsWith("restored")) assert.equal(Object.keys(after.files).length, placed, fault);
    else assert.equal(Object.keys(after.files).length, 0, `${fault}: placed before flushed`);

    const again = await cli(["restore", "--to", out]);
    assert.equal(again.code, 0, `${fault}: ${again.stderr}`);
    assert.match(again.stdout, new RegExp(`${FILES - Object.keys(after.files).length} restored`));
    const finished = restored(out);
    assert.deepEqual(finished.files, source, fault);
    // Only the killed restore's hidden temporary files stay, for the user to delete.
    assert.deepEqual(finished.temporary.sort(), after.temporary.sort(), fault);
  }
});
