/**
 * The temporary folders that hold private copies of the state (see `StateDb.openPrivateCopy`),
 * named after the process that made them: `backup-tool-state-<pid>-<random>`. A reader
 * killed outright (SIGKILL, a job's timeout) leaves its folder, a copy as large as the
 * state, in the temporary folder; each new one first removes those of processes no longer
 * running (Linux, where /proc says so; elsewhere they are left, as before). Removes only
 * folders of that name whose process is gone; an interruption leaves at most some of them.
 */
import { join } from "node:path";

const PREFIX = "backup-tool-state-";

/** Makes a folder for a private copy, after removing those left by dead processes. */
export function makeCopyDir(): string {
  const dir = Deno.makeTempDirSync({ prefix: `${PREFIX}${Deno.pid}-` });
  removeLeftCopies(join(dir, ".."));
  return dir;
}

/** Removes the copy folders in `tmp` whose process no longer runs. */
export function removeLeftCopies(tmp: string, running: (pid: number) => boolean = isRunning) {
  if (Deno.build.os !== "linux") return;
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(tmp)];
  } catch {
    return; // not listable: nothing to look at
  }
  for (const e of entries) {
    const pid = e.isDirectory ? ownerPid(e.name) : undefined;
    if (pid === undefined || running(pid)) continue;
    try {
      Deno.removeSync(join(tmp, e.name), { recursive: true });
    } catch { /* another user's, or removed meanwhile */ }
  }
}

/** The process a copy folder's name names, or undefined for any other name. */
function ownerPid(name: string): number | undefined {
  const m = /^backup-tool-state-(\d+)-\w+$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

function isRunning(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch (e) {
    return !(e instanceof Deno.errors.NotFound); // not allowed to look: kept
  }
}
