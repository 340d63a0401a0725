/**
 * The staging worker (see staging.ts): walks the sources of its job once it is given one,
 * and reads, hashes and stages every entry (or, for a job that only walks, sends each as
 * lstat found it), sending results in chunks of CHUNK_ITEMS entries or CHUNK_BYTES read,
 * and never more chunks ahead than the main thread has credited. Asked to read given
 * entries (`read`, held ones: see read_ahead.ts), it reads, hashes and, where a temporary
 * name is given, stages each, and answers each request in the order asked. Terminated
 * mid-walk or mid-read, it leaves at most temporary copies, which the next run removes.
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { join } from "node:path";
import { errorText } from "../errors.ts";
import { openSource } from "../fs/source_file.ts";
import { removeQuietly, vanishedFrom } from "../fs/fsops.ts";
import { scanEntries, type ScanOptions } from "./scan.ts";
import { GrownLargeError, KeptChangingError, READ_BUFFER_BYTES, stageEntry } from "../stage.ts";
import { loadDigests } from "../digest.ts";
import type { ScanEntry } from "../../core/types.ts";
import { keptFolderMeta } from "../../core/folder_meta.ts";
import type {
  ReadRequest,
  StagedEntry,
  StagedItem,
  StagingJob,
  WalkReport,
  WorkerMessage,
  WorkerRequest,
} from "./staging.ts";
import { ChunkWriter, sourceRoots } from "./walk_chunk.ts";

/** Entries per chunk: few enough messages that passing them costs nothing measurable. */
const CHUNK_ITEMS = 256;
/** Bytes read per chunk at most, so large files are planned (and flushed) in step. */
const CHUNK_BYTES = 64 << 20;

let credits = 0;
let wake: (() => void) | undefined;
/** The reads asked for, answered one request after another. */
let reads = Promise.resolve();

self.onmessage = (e: MessageEvent<WorkerRequest>) => {
  const request = e.data;
  if (request.type === "credit") {
    credits++;
    wake?.();
  } else if (request.type === "read") {
    reads = reads.then(() => readEach(request.algo, request.items));
  } else if (request.type === "prepare") {
    void prepare(request.ready);
  } else {
    // A failure is an unhandled rejection here, which reaches the main thread's onerror.
    void walk(request.job);
  }
};

/** Loads the hash, then says so: at once through `ready`, and by a message. */
async function prepare(ready: Int32Array): Promise<void> {
  await loadDigests();
  Atomics.store(ready, 0, 1);
  post({ type: "prepared" });
}

async function walk(job: StagingJob): Promise<void> {
  credits = job.credits;
  const unreadable: string[] = [];
  if (job.walkOnly) await walkOnly(job, unreadable);
  else await stageAll(job, unreadable);
  post({ type: "done", unreadable });
}

/** Waits for a credit, then posts a chunk. */
async function send(message: WorkerMessage, transfer: Transferable[] = []): Promise<void> {
  while (credits === 0) await new Promise<void>((resolve) => wake = resolve);
  credits--;
  self.postMessage(message, transfer);
}

/** The scan's options with its reports passed to `report`, in walk order. */
function reporting(job: StagingJob, report: (item: WalkReport) => void): ScanOptions {
  return {
    ...job.scan,
    onSpecial: (special) => report({ special }),
    onProblem: (problem) => report({ problem }),
    onSkipped: (abs, path) => report({ skipped: [abs, path] }),
    onLeftOut: (leftOut) => report({ leftOut }),
    onLarge: (path, size) => report({ large: [path, size] }),
    onFolder: (path, meta) => report({ folder: [path, keptFolderMeta(meta)] }),
  };
}

/** Sends every entry as lstat found it, CHUNK_ITEMS to a chunk (see walk_chunk.ts). */
async function walkOnly(job: StagingJob, unreadable: string[]): Promise<void> {
  const chunk = new ChunkWriter<WalkReport>(sourceRoots(job.sources));
  const flush = () => {
    const walked = chunk.take();
    return send({ type: "walked", chunk: walked }, [walked.nums.buffer]);
  };
  const scan = reporting(job, (item) => chunk.report(item));
  for (const entry of scanEntries(job.sources, scan, unreadable)) {
    chunk.add(entry);
    if (chunk.count >= CHUNK_ITEMS) await flush();
  }
  if (!chunk.empty) await flush();
}

/** Reads, hashes and (where a name is given) stages each entry asked for, in order. */
async function readEach(algo: string, items: ReadRequest[]): Promise<void> {
  await loadDigests();
  readBuf ??= new Uint8Array(READ_BUFFER_BYTES);
  const results = items.map(({ entry, tmp, limit }) => stageOne(entry, algo, readBuf!, tmp, limit));
  post({ type: "read", results });
}

let readBuf: Uint8Array | undefined;

/** One entry staged, or why it could not be. */
function stageOne(
  entry: ScanEntry,
  algo: string,
  buf: Uint8Array,
  tmp?: string,
  limit?: number | null,
): StagedEntry {
  try {
    const staged = stageEntry(entry, algo, buf, tmp, limit);
    return { entry: staged.entry, hash: staged.hash, tmp: staged.tmp };
  } catch (e) {
    removeQuietly(tmp);
    if (e instanceof GrownLargeError) return { entry, large: e.size };
    const error = errorText(e);
    if (e instanceof KeptChangingError) return { entry, error, changing: true };
    return { entry, error, vanished: vanishedFrom(e, entry.abs, openSource) };
  }
}

/** Reads, hashes and stages every entry. */
async function stageAll(job: StagingJob, unreadable: string[]): Promise<void> {
  await loadDigests();
  const buf = new Uint8Array(READ_BUFFER_BYTES);
  let items: StagedItem[] = [];
  let bytes = 0;
  let n = 0;
  const flush = async () => {
    await send({ type: "items", items });
    items = [];
    bytes = 0;
  };
  const scan = reporting(job, (item) => items.push(item));
  for (const entry of scanEntries(job.sources, scan, unreadable)) {
    const tmp = job.tmpDir ? join(job.tmpDir, `${job.tmpPrefix}-${++n}.tmp`) : undefined;
    items.push(stageOne(entry, job.algo, buf, tmp, job.scan.excludeLargerThan));
    bytes += entry.size;
    if (items.length >= CHUNK_ITEMS || bytes >= CHUNK_BYTES) await flush();
  }
  if (items.length > 0) await flush();
}

function post(message: WorkerMessage): void {
  self.postMessage(message);
}
