/**
 * Unit tests of the lock file's writes: a record over a longer one is padded, then cut, and
 * the padding stays where a file system allows no cut but to nothing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { overwrite } from "./lock_file_write.ts";
import { withDir } from "../test_util.ts";

Deno.test(
  "overwrite: a record over a longer one is padded, then cut; where only a cut to nothing is allowed (fusefat), the padding stays",
  withDir((dir) => {
    const record = new TextEncoder().encode('{"pid":1}\n');
    const longer = '{"pid":1}\n and the end of a longer record\n';
    let content = new TextEncoder().encode(longer);
    let at = 0;
    const writes: string[] = [];
    const file = {
      statSync: () => ({ size: content.length }) as Deno.FileInfo,
      truncateSync(len?: number) {
        if (len) throw new Deno.errors.PermissionDenied("Operation not permitted (os error 1)");
        content = new Uint8Array(0);
      },
      seekSync(offset: number | bigint) {
        at = Number(offset);
        return at;
      },
      writeSync(p: Uint8Array) {
        const grown = new Uint8Array(Math.max(content.length, at + p.length));
        grown.set(content);
        grown.set(p, at);
        content = grown;
        at += p.length;
        writes.push(new TextDecoder().decode(p));
        return p.length;
      },
    };
    overwrite(file, record);
    // One write, of the record padded to the file's length, and no cut to nothing.
    assert.deepEqual(writes, [`{"pid":1}\n${" ".repeat(longer.length - record.length)}`]);
    assert.equal(new TextDecoder().decode(content).trim(), '{"pid":1}');
    assert.deepEqual(JSON.parse(new TextDecoder().decode(content)), { pid: 1 });
    // Any other failure is the caller's to report.
    const failing = {
      ...file,
      truncateSync: () => {
        throw new Deno.errors.Busy("busy");
      },
    };
    content = new TextEncoder().encode(longer);
    assert.throws(() => overwrite(failing, record), Deno.errors.Busy);
    // On a file system that cuts: the record, exactly.
    const path = join(dir, "lock");
    Deno.writeTextFileSync(path, longer);
    using f = Deno.openSync(path, { read: true, write: true });
    overwrite(f, record);
    assert.equal(Deno.readTextFileSync(path), '{"pid":1}\n');
  }),
);
