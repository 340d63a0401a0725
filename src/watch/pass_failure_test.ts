import assert from "node:assert/strict";
import { emptyResult } from "../engine/pass_types.ts";
import { passesWorkAgain } from "./pass_failure.ts";
import type { Job } from "./scheduler.ts";

const full: Job = { kind: "full", reason: "retry after an error" };
const paths: Job = { kind: "paths", paths: ["/src/a.txt"] };

Deno.test("passesWorkAgain: a full pass caught up the changes; a scoped one leaves them to the retry", () => {
  assert.equal(
    passesWorkAgain(full, emptyResult(), 2, 30_000),
    "Backups work again: a full rescan went through after 2 failed passes and caught up the " +
      "changes made meanwhile",
  );
  assert.equal(
    passesWorkAgain(paths, emptyResult(), 1, 30_000),
    "Backups work again: a pass went through after 1 failed pass; a full rescan within 30 s " +
      "catches up the changes made meanwhile",
  );
});

Deno.test("passesWorkAgain: files that failed are counted; one failed for want of room says nothing", () => {
  const failed = emptyResult();
  failed.counts.failed = 1;
  failed.errors.push({ path: "/src/a.txt", message: "Permission denied (os error 13)" });
  assert.match(
    passesWorkAgain(full, failed, 3, 30_000)!,
    /after 3 failed passes and caught up the changes made meanwhile; 1 file failed \(named in ERROR lines\)$/,
  );
  const noRoom = emptyResult();
  noRoom.counts.failed = 1;
  noRoom.errors.push({ path: "/src/a.txt", message: "No space left on device (os error 28)" });
  assert.equal(passesWorkAgain(full, noRoom, 1, 30_000), undefined);
});
