/**
 * A folder's extended attributes and POSIX ACLs (its access ACL, and the default ACL that
 * its new files inherit, as on a shared folder of a server), through the real CLI on real
 * folders (Linux, FFI permitted): each walk records them as it records the folder's mode,
 * and a restore gives them to the folders it makes (`--to`, in place), once the files in
 * them are in place, so those keep exactly their own recorded ACLs; a change of them alone
 * is recorded by the next run; a run without FFI keeps those recorded; a state from before
 * them (schema 8) restores the folders without them. Needs `setfattr`/`getfattr` and
 * `setfacl`/`getfacl`, and a temporary folder whose file system keeps them; skipped
 * otherwise, saying why (as xattrs_test.ts, which covers files).
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import {
  type Fixture,
  MAIN,
  makeFixture,
  olderSchemaSql,
  RESTRICTED_PERMISSIONS,
  runProgram,
} from "./helpers.ts";
import { attr, tool, whyNoXattrs } from "./xattr_tools.ts";

const SKIP = whyNoXattrs({ defaultAcl: true });
if (SKIP) console.warn(`folder_xattrs_test: skipped: ${SKIP}`);

function run(cmd: string, ...args: string[]): void {
  assert.notEqual(tool(cmd, ...args), undefined, `${cmd} ${args.join(" ")}`);
}

/** The ACL entries beyond the mode (`user:65534:rwx`, `default:user:65534:r-x`...). */
function aclEntries(path: string): string[] {
  const text = tool("getfacl", "--omit-header", "--absolute-names", "--numeric", path) ?? "";
  return text.split("\n").filter((l) => /^(default:)?(user|group):[^:]+:/.test(l))
    .map((l) => l.replace(/\s*#.*$/, "").trim());
}

async function ok(fx: Fixture, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await fx.cli(...args);
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}${r.stdout}`);
  return r;
}

/** The recorded attributes of the folder `path` (logical), or null. */
function recorded(fx: Fixture, path: string): Uint8Array | null | undefined {
  const db = new DatabaseSync(join(fx.backup, ".backup-tool", "state.db"), { readOnly: true });
  try {
    const row = db.prepare("SELECT xattrs FROM folders WHERE path = ?").get(path);
    return row?.xattrs as Uint8Array | null | undefined;
  } finally {
    db.close();
  }
}

const SHARED = ["user:65534:rwx", "default:user:65534:r-x"];

/**
 * A shared folder: an access ACL, a default ACL and a user.* attribute, set after its
 * file and subfolder were made (so those have none of their own), its time set last.
 */
function sharedFixture(): Fixture {
  const fx = makeFixture({ "shared/sub/f.txt": "f\n", "plain/p.txt": "p\n" });
  const shared = join(fx.source, "shared");
  run("setfacl", "-m", "u:65534:rwx", shared);
  run("setfacl", "-d", "-m", "u:65534:rx", shared);
  run("setfattr", "-n", "user.team", "-v", "ops", shared);
  Deno.utimeSync(shared, new Date(1_500_000_000_000), new Date(1_500_000_000_000));
  return fx;
}

/** The shared fixture's folders as restored under `root`: the files without ACLs. */
function assertShared(root: string): void {
  const shared = join(root, "shared");
  assert.deepEqual(aclEntries(shared), SHARED);
  assert.equal(attr(shared, "user.team"), "ops");
  assert.equal(Deno.statSync(shared).mtime!.getTime(), 1_500_000_000_000);
  // Made before the default ACL was set at the source, and restored so: none inherited.
  assert.deepEqual(aclEntries(join(shared, "sub")), []);
  assert.deepEqual(aclEntries(join(shared, "sub/f.txt")), []);
  assert.deepEqual(aclEntries(join(root, "plain")), []);
  assert.equal(attr(join(root, "plain"), "user.team"), undefined);
}

Deno.test({
  name: "folder xattrs: a folder's ACLs (the default one too) and user.* attributes are " +
    "given to the folders a restore makes (--to, in place), its files keeping their own",
  ignore: SKIP !== undefined,
  fn: async () => {
    using fx = sharedFixture();
    await ok(fx, "run");
    const to = join(fx.dir, "r");
    await ok(fx, "restore", "--to", to);
    assertShared(to);
    // Recorded for the folder that has some; one without any records nothing.
    assert.equal(recorded(fx, "source/shared") instanceof Uint8Array, true);
    assert.equal(recorded(fx, "source/shared/sub"), null);
    Deno.removeSync(fx.source, { recursive: true });
    await ok(fx, "restore");
    assertShared(fx.source);
  },
});

Deno.test({
  name: "folder xattrs: a change of them alone is recorded by the next run; a run without " +
    "FFI keeps those recorded",
  ignore: SKIP !== undefined,
  fn: async () => {
    using fx = sharedFixture();
    await ok(fx, "run");
    const shared = join(fx.source, "shared");
    run("setfacl", "-x", "u:65534", shared);
    run("setfattr", "-n", "user.team", "-v", "dev", shared);
    run("setfattr", "-n", "user.owner", "-v", "me", join(fx.source, "plain"));
    await ok(fx, "run");
    // A run without FFI reads none: it keeps those recorded, not taking them for none.
    const restricted = await runProgram(Deno.execPath(), [
      "run",
      ...RESTRICTED_PERMISSIONS,
      MAIN,
      "run",
      "--config",
      fx.config,
    ]);
    assert.equal(restricted.code, 0, restricted.stderr);
    const to = join(fx.dir, "r");
    await ok(fx, "restore", "--to", to);
    assert.deepEqual(aclEntries(join(to, "shared")), ["default:user:65534:r-x"]);
    assert.equal(attr(join(to, "shared"), "user.team"), "dev");
    assert.equal(attr(join(to, "plain"), "user.owner"), "me");
  },
});

Deno.test({
  name: "folder xattrs: a state from before them (schema 8) restores folders without them; " +
    "a run migrates it and records them",
  ignore: SKIP !== undefined,
  fn: async () => {
    using fx = sharedFixture();
    await ok(fx, "run");
    const db = new DatabaseSync(join(fx.backup, ".backup-tool", "state.db"));
    db.exec(olderSchemaSql(8));
    db.close();
    const r8 = join(fx.dir, "r8");
    await ok(fx, "restore", "--to", r8); // read as it is: readers never migrate
    assert.deepEqual(aclEntries(join(r8, "shared")), []);
    assert.equal(Deno.statSync(join(r8, "shared")).mtime!.getTime(), 1_500_000_000_000);
    await ok(fx, "run");
    const r9 = join(fx.dir, "r9");
    await ok(fx, "restore", "--to", r9);
    assertShared(r9);
  },
});
