/** Unit tests of what tags a folder (tags.ts), on files in a temporary folder. */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  CACHEDIR_SIGNATURE,
  isCacheTag,
  isTagName,
  taggedAbove,
  tagKeys,
  tagsConfigured,
} from "./tags.ts";

function withDir(fn: (dir: string) => void): void {
  const dir = Deno.makeTempDirSync({ prefix: "bt-tags-" });
  try {
    fn(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("tags: a cache tag is a file beginning with the 43 bytes of the signature, or a symlink to one", () =>
  withDir((dir) => {
    const at = (name: string, text: string) => {
      Deno.writeTextFileSync(join(dir, name), text);
      return join(dir, name);
    };
    assert.equal(CACHEDIR_SIGNATURE.length, 43);
    assert.ok(isCacheTag(at("exact", CACHEDIR_SIGNATURE)));
    assert.ok(isCacheTag(at("more", `${CACHEDIR_SIGNATURE}\n# cargo\n`)));
    assert.ok(!isCacheTag(at("short", CACHEDIR_SIGNATURE.slice(0, 42))));
    assert.ok(!isCacheTag(at("other", `${CACHEDIR_SIGNATURE.toUpperCase()}\n`)));
    assert.ok(!isCacheTag(at("bom", `\uFEFF${CACHEDIR_SIGNATURE}`)));
    assert.ok(!isCacheTag(join(dir, "missing")));
    Deno.mkdirSync(join(dir, "folder"));
    assert.ok(!isCacheTag(join(dir, "folder")));
    // A symlink is followed to a regular file only (as restic and borg follow it).
    const link = (name: string, target: string) => {
      Deno.symlinkSync(target, join(dir, name));
      return join(dir, name);
    };
    assert.ok(isCacheTag(link("link", join(dir, "exact"))));
    assert.ok(isCacheTag(link("link2", "link")), "through two symlinks");
    assert.ok(!isCacheTag(link("to-short", "short")));
    assert.ok(!isCacheTag(link("dangling", "missing")));
    assert.ok(!isCacheTag(link("loop", "loop")));
    assert.ok(!isCacheTag(link("to-folder", "folder")));
    assert.ok(!isCacheTag(link("to-device", "/dev/zero")));
  }));

Deno.test("tags: the keys that tag a folder, by name in its listing", () =>
  withDir((dir) => {
    Deno.writeTextFileSync(join(dir, "CACHEDIR.TAG"), CACHEDIR_SIGNATURE);
    const rules = { excludeCaches: true, excludeIfPresent: [".nobackup", "skip me"] };
    assert.deepEqual(tagKeys(rules, dir, ["CACHEDIR.TAG", "a.txt", "b/"]), ["CACHEDIR.TAG"]);
    assert.deepEqual(tagKeys(rules, dir, [".nobackup/", "a.txt"]), [".nobackup/"]);
    assert.deepEqual(tagKeys(rules, dir, ["a.txt", "skip me"]), ["skip me"]);
    assert.equal(tagKeys(rules, dir, ["a.txt", ".NOBACKUP", "cachedir.tag"]), undefined);
    assert.equal(tagKeys({ excludeIfPresent: [".nobackup"] }, dir, ["CACHEDIR.TAG"]), undefined);
    assert.ok(
      tagsConfigured(rules) && !tagsConfigured({}) && !tagsConfigured({ excludeIfPresent: [] }),
    );
    assert.ok(isTagName(rules, "CACHEDIR.TAG") && isTagName(rules, "skip me"));
    assert.ok(!isTagName({ excludeIfPresent: ["x"] }, "CACHEDIR.TAG"));
  }));

Deno.test("tags: the tagged folder on the way to a walk's start, but for the tag itself", () =>
  withDir((dir) => {
    Deno.mkdirSync(join(dir, "t/debug/deep"), { recursive: true });
    Deno.writeTextFileSync(join(dir, "t/CACHEDIR.TAG"), CACHEDIR_SIGNATURE);
    Deno.writeTextFileSync(join(dir, "t/debug/.nobackup"), "");
    const rules = { excludeCaches: true, excludeIfPresent: [".nobackup"] };
    const cache = new Map<string, boolean>();
    // The outermost one.
    assert.equal(taggedAbove(rules, dir, join(dir, "t/debug/deep"), cache), join(dir, "t"));
    assert.equal(taggedAbove(rules, dir, join(dir, "t/CACHEDIR.TAG"), cache), undefined);
    assert.equal(taggedAbove(rules, dir, join(dir, "t/debug/.nobackup"), cache), join(dir, "t"));
    assert.equal(
      taggedAbove(
        { excludeIfPresent: [".nobackup"] },
        dir,
        join(dir, "t/debug/.nobackup"),
        new Map(),
      ),
      undefined,
    );
    assert.equal(
      taggedAbove({ excludeIfPresent: [".nobackup"] }, dir, join(dir, "t/debug/deep"), new Map()),
      join(dir, "t/debug"),
    );
    assert.equal(
      taggedAbove(rules, join(dir, "t/debug"), join(dir, "t/debug/deep"), new Map()),
      join(dir, "t/debug"),
    );
    assert.equal(
      taggedAbove(rules, dir, join(dir, "t"), new Map()),
      undefined,
      "asked of itself: the walk's",
    );
  }));
