/**
 * The staging worker (see staging.ts): walks the sources it is given and reads, hashes and
 * stages every entry, sending results in chunks of CHUNK_ITEMS entries or CHUNK_BYTES read,
 * and never more chunks ahead than the main thread has credited. Terminated mid-walk, it
 * leaves at most temporary copies, which the next run removes.
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { join } from "node:path";
import { errorText } from "./errors.ts";
import { removeQuietly, vanishedFrom } from "./fsops.ts";
import { scanEntries, type ScanProblem } from "./scan.ts";
import { READ_BUFFER_BYTES, stageEntry } from "./stage.ts";
import { loadDigests } from "./digest.ts";
import type { StagedItem, StagingJob, WorkerMessage } from "./staging.ts";
import type { FolderMeta } from "./types.ts";

/** Entries per chunk: few enough messages that passing them costs nothing measurable. */
const CHUNK_ITEMS = 256;
/** Bytes read per chunk at most, so large files are planned (and flushed) in step. */
const CHUNK_BYTES = 64 << 20;

let credits = 0;
let wake: (() => void) | undefined;

self.onmessage = (e: MessageEvent<{ type: "start"; job: StagingJob } | { type: "credit" }>) => {
  if (e.data.type === "credit") {
    credits++;
    wake?.();
    return;
  }
  // A failure is an unhandled rejection here, which reaches the main thread's onerror.
  void walk(e.data.job);
};

async function walk(job: StagingJob): Promise<void> {
  await loadDigests();
  credits = job.credits;
  const buf = new Uint8Array(READ_BUFFER_BYTES);
  let items: StagedItem[] = [];
  let bytes = 0;
  let n = 0;
  const send = async () => {
    while (credits === 0) await new Promise<void>((resolve) => wake = resolve);
    credits--;
    post({ type: "items", items });
    items = [];
    bytes = 0;
  };
  const unreadable: string[] = [];
  const scan = {
    ...job.scan,
    onSpecial: (special: ScanProblem) => items.push({ special }),
    onProblem: (problem: ScanProblem) => items.push({ problem }),
    onSkipped: (skipped: string) => items.push({ skipped }),
    onFolder: (path: string, m: FolderMeta) =>
      items.push({ folder: [path, { mode: m.mode, uid: m.uid, gid: m.gid, mtimeMs: m.mtimeMs }] }),
  };
  for (const entry of scanEntries(job.sources, scan, unreadable)) {
    const tmp = job.tmpDir ? join(job.tmpDir, `${job.tmpPrefix}-${++n}.tmp`) : undefined;
    try {
      const staged = stageEntry(entry, job.algo, buf, tmp);
      items.push({ entry: staged.entry, hash: staged.hash, tmp: staged.tmp });
    } catch (e) {
      removeQuietly(tmp);
      items.push({ entry, error: errorText(e), vanished: vanishedFrom(e, entry.abs) });
    }
    bytes += entry.size;
    if (items.length >= CHUNK_ITEMS || bytes >= CHUNK_BYTES) await send();
  }
  if (items.length > 0) await send();
  post({ type: "done", unreadable });
}

function post(message: WorkerMessage): void {
  self.postMessage(message);
}
