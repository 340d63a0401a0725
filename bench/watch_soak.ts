// A leak hunt on a long-running `watch` session: `deno run -A bench/watch_soak.ts --minutes N`.
//
// Starts `src/main.ts watch --config FILE` (with the V8 flags deno.json's `watch` task gives)
// over a temporary tree of a few thousand files in two sources, and drives it for N minutes
// with a seeded churn: files and whole folders (deep and shallow) made, changed, removed and
// renamed, folders made and removed at once (watches added and dropped), a file replaced by a
// folder and back, symlinks, a source folder removed and put back, the config edited (an
// exclude added and removed, the second source added and removed: the watch applies edits as
// it runs), bursts of thousands of files that overflow the kernel's event queue, and idle
// stretches. Every --sample-s seconds it samples the process: RSS, open descriptors (and what
// they lead to), inotify watches (the `inotify wd:` lines of /proc/PID/fdinfo), threads, the
// state's and the logs' sizes, and the folders the followed sources hold now. After the churn
// the session idles (--idle-s: half with both sources, half with the second taken out of the
// config), is stopped with SIGTERM, and the backup is checked: `verify` clean, a `run` that
// copies nothing, and a restore equal to the sources.
//
// What is a leak: a count that tracks the history, not the tree. Idle after the churn, the
// inotify watches should equal the folders followed (`dirs`: both sources', then the first's
// alone), the descriptors no more than at the start, and RSS should stop climbing. Prints the samples as a table on stdout, and a verdict;
// exit 1 when a check fails. Linux only (/proc). The scratch folder is removed unless --keep.

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { mulberry32 } from "./gen.ts";

const REPO = dirname(dirname(fileURLToPath(import.meta.url)));
const V8_FLAGS = "--max-semi-space-size=4,--heap-growing-percent=50,--no-memory-reducer";

interface Options {
  minutes: number;
  seed: number;
  files: number;
  sampleS: number;
  idleS: number;
  keep: boolean;
}

function parseArgs(args: string[]): Options {
  const o: Options = { minutes: 20, seed: 44, files: 3000, sampleS: 15, idleS: 120, keep: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const num = () => Number(args[++i]);
    if (a === "--minutes") o.minutes = num();
    else if (a === "--seed") o.seed = num();
    else if (a === "--files") o.files = num();
    else if (a === "--sample-s") o.sampleS = num();
    else if (a === "--idle-s") o.idleS = num();
    else if (a === "--keep") o.keep = true;
    else {
      console.error(
        `unknown option '${a}': --minutes N --seed S --files N --sample-s S ` +
          "--idle-s S --keep",
      );
      Deno.exit(2);
    }
  }
  return o;
}

const opts = parseArgs(Deno.args);
const rnd = mulberry32(opts.seed);
const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
const chance = (p: number) => rnd() < p;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const work = await Deno.makeTempDir({ prefix: "watch-soak-" });
const src1 = join(work, "src1");
const src2 = join(work, "src2");
const backup = join(work, "backup");
const logs = join(work, "logs");
const configFile = join(work, "config.jsonc");

/** The config's variable parts, edited as the churn goes. */
const cfg = { second: true, excludeLog: false };
function writeConfig() {
  const sources = cfg.second ? [src1, src2] : [src1];
  const exclude = ["*.tmp", ...(cfg.excludeLog ? ["*.log", "skipme/"] : [])];
  const text = JSON.stringify(
    {
      sources,
      backup_root: backup,
      log_dir: logs,
      exclude,
      watch: { debounce_ms: 500, rescan_interval: 300 },
      // The churn removes whole folders at once: no deletion is held back.
      safety: { max_delete_percent: 100 },
    },
    null,
    2,
  );
  Deno.writeTextFileSync(configFile + ".new", text);
  Deno.renameSync(configFile + ".new", configFile);
}

// ---- the tree ---------------------------------------------------------------------------

let serial = 0;
const name = (prefix: string) => `${prefix}${(serial++).toString(36)}`;
const bytes = (n: number) => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 4) b[i] = (rnd() * 256) | 0;
  return b;
};

function tryDo(f: () => void) {
  try {
    f();
  } catch { /* the tree changed under the churn: fine */ }
}

/** Every folder and file below `root` (symlinks as files, not followed). */
function walk(root: string, dirs: string[], files: string[]) {
  let entries;
  try {
    entries = [...Deno.readDirSync(root)];
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(root, e.name);
    if (e.isDirectory) {
      dirs.push(p);
      walk(p, dirs, files);
    } else files.push(p);
  }
}

function listTree(roots: string[]) {
  const dirs: string[] = [];
  const files: string[] = [];
  for (const r of roots) walk(r, dirs, files);
  return { dirs, files };
}

function generate(root: string, nFiles: number) {
  Deno.mkdirSync(root, { recursive: true });
  const folders = [root];
  for (let i = 0; i < Math.max(1, Math.floor(nFiles / 20)); i++) {
    const d = join(pick(folders), name("d"));
    Deno.mkdirSync(d);
    folders.push(d);
  }
  for (let i = 0; i < nFiles; i++) {
    Deno.writeFileSync(join(pick(folders), name("f") + ".txt"), bytes(200 + (rnd() * 3000 | 0)));
  }
}

// ---- the churn ----------------------------------------------------------------------------

const stats: Record<string, number> = {};
const roots = () => (cfg.second ? [src1, src2] : [src1]).filter((r) => exists(r));
function exists(p: string) {
  try {
    Deno.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}
function someDir(): string {
  const { dirs } = listTree(roots());
  return dirs.length > 0 && chance(0.85) ? pick(dirs) : pick(roots().length ? roots() : [src1]);
}
function someFile(): string | undefined {
  const { files } = listTree(roots());
  return files.length ? pick(files) : undefined;
}

const ops: [string, number, () => Promise<void> | void][] = [
  ["create", 20, () => {
    const d = someDir();
    for (let i = 0; i < 1 + (rnd() * 5 | 0); i++) {
      tryDo(() =>
        Deno.writeFileSync(join(d, name("n") + (chance(0.2) ? ".log" : ".txt")), bytes(500))
      );
    }
  }],
  ["modify", 20, () => {
    for (let i = 0; i < 1 + (rnd() * 5 | 0); i++) {
      const f = someFile();
      if (f) tryDo(() => Deno.writeFileSync(f, bytes(300 + (rnd() * 2000 | 0))));
    }
  }],
  ["delete", 10, () => {
    const f = someFile();
    if (f) tryDo(() => Deno.removeSync(f));
  }],
  ["rename-file", 8, () => {
    const f = someFile();
    if (f) tryDo(() => Deno.renameSync(f, join(someDir(), name("r") + ".txt")));
  }],
  ["deep-tree", 6, () => {
    let d = someDir();
    for (let i = 0; i < 2 + (rnd() * 8 | 0); i++) {
      d = join(d, name(chance(0.1) ? "skipme" : "deep"));
      tryDo(() => Deno.mkdirSync(d));
      tryDo(() => Deno.writeFileSync(join(d, name("x") + ".txt"), bytes(400)));
    }
  }],
  ["rm-tree", 6, () => {
    const { dirs } = listTree(roots());
    const d = pick(dirs.length ? dirs : [join(src1, "none")]);
    const { dirs: below } = listTree([d]);
    if (below.length < 8 && sizeOf(d) < 200_000) {
      tryDo(() => Deno.removeSync(d, { recursive: true }));
    }
  }],
  ["grow", 4, () => {
    const d = join(someDir(), name("g"));
    tryDo(() => Deno.mkdirSync(d));
    for (let i = 0; i < 20; i++) {
      tryDo(() => Deno.writeFileSync(join(d, name("f") + ".txt"), bytes(800)));
    }
  }],
  ["rename-folder", 5, () => {
    const { dirs } = listTree(roots());
    if (!dirs.length) return;
    const d = pick(dirs);
    const to = join(someDir(), name("m"));
    if (!to.startsWith(d + "/")) tryDo(() => Deno.renameSync(d, to));
  }],
  ["quick-dirs", 6, async () => {
    const d = someDir();
    const made: string[] = [];
    for (let i = 0; i < 20; i++) {
      const p = join(d, name("q"));
      tryDo(() => Deno.mkdirSync(join(p, "a", "b"), { recursive: true }));
      made.push(p);
    }
    await sleep(rnd() * 300);
    for (const p of made) tryDo(() => Deno.removeSync(p, { recursive: true }));
  }],
  ["file-to-folder", 4, async () => {
    const f = someFile();
    if (!f) return;
    tryDo(() => Deno.removeSync(f));
    tryDo(() => Deno.mkdirSync(f));
    tryDo(() => Deno.writeFileSync(join(f, "inner.txt"), bytes(100)));
    await sleep(500 + rnd() * 2500);
    tryDo(() => Deno.removeSync(f, { recursive: true }));
    tryDo(() => Deno.writeFileSync(f, bytes(100)));
  }],
  ["symlinks", 4, () => {
    const d = someDir();
    const f = someFile();
    if (f) tryDo(() => Deno.symlinkSync(f, join(d, name("lf"))));
    tryDo(() => Deno.symlinkSync(someDir(), join(someDir(), name("ld"))));
    // and some removed
    const { files } = listTree(roots());
    for (const p of files.filter((p) => /\/l[fd][0-9a-z]+$/.test(p)).slice(0, 2)) {
      if (chance(0.5)) tryDo(() => Deno.removeSync(p));
    }
  }],
  ["source-away", 1, async () => {
    const r = chance(0.5) || !cfg.second ? src1 : src2;
    tryDo(() => Deno.renameSync(r, r + ".away"));
    await sleep(3000 + rnd() * 5000);
    tryDo(() => Deno.renameSync(r + ".away", r));
  }],
  ["config-exclude", 2, () => {
    cfg.excludeLog = !cfg.excludeLog;
    writeConfig();
  }],
  ["config-source", 1, () => {
    cfg.second = !cfg.second;
    writeConfig();
  }],
  ["burst", 1, async () => {
    const d = join(src1, name("burst"));
    for (let i = 0; i < 60; i++) {
      const sub = join(d, `b${i}`);
      Deno.mkdirSync(sub, { recursive: true });
      for (let j = 0; j < 300; j++) Deno.writeFileSync(join(sub, `${j}.dat`), bytes(64));
    }
    await sleep(20_000 + rnd() * 20_000);
    tryDo(() => Deno.removeSync(d, { recursive: true }));
  }],
  ["idle", 2, () => sleep(20_000 + rnd() * 40_000)],
];
const totalWeight = ops.reduce((n, [, w]) => n + w, 0);
function drawOp() {
  let x = rnd() * totalWeight;
  for (const op of ops) if ((x -= op[1]) < 0) return op;
  return ops[0];
}

// ---- the samples --------------------------------------------------------------------------

interface Sample {
  t: number;
  phase: string;
  rssKiB: number;
  fds: number;
  fdKinds: string;
  deletedFds: number;
  watches: number;
  threads: number;
  dirs: number;
  stateKiB: number;
  logKiB: number;
}

function sizeOf(path: string): number {
  let n = 0;
  try {
    const st = Deno.lstatSync(path);
    if (!st.isDirectory) return st.size;
    for (const e of Deno.readDirSync(path)) n += sizeOf(join(path, e.name));
  } catch { /* gone */ }
  return n;
}

function sample(pid: number, phase: string, t0: number): Sample {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const kinds = new Map<string, number>();
  let fds = 0, deletedFds = 0, watches = 0;
  for (const { name: fd } of Deno.readDirSync(`/proc/${pid}/fd`)) {
    let link;
    try {
      link = Deno.readLinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    fds++;
    if (link.endsWith(" (deleted)")) deletedFds++;
    const kind = link.startsWith(work)
      ? link.slice(work.length + 1).split("/")[0].replace(/ \(deleted\)$/, "")
      : link.replace(/:\[\d+\]$/, "").replace(/^\/dev\/.*/, "dev")
        .replace(/^.*\/deno\/.*$/, "deno-cache");
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    if (link === "anon_inode:inotify") {
      try {
        const info = Deno.readTextFileSync(`/proc/${pid}/fdinfo/${fd}`);
        watches += info.split("\n").filter((l) => l.startsWith("inotify wd:")).length;
      } catch { /* closed meanwhile */ }
    }
  }
  const threads = [...Deno.readDirSync(`/proc/${pid}/task`)].length;
  const followed = (cfg.second ? [src1, src2] : [src1]).filter(exists);
  const dirs = followed.length + listTree(followed).dirs.length;
  const fdKinds = [...kinds].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}:${n}`).join(" ");
  return {
    t: Math.round((performance.now() - t0) / 1000),
    phase,
    rssKiB,
    fds,
    fdKinds,
    deletedFds,
    watches,
    threads,
    dirs,
    stateKiB: Math.round(sizeOf(join(backup, ".backup-tool")) / 1024),
    logKiB: Math.round(sizeOf(logs) / 1024),
  };
}

function row(s: Sample): string {
  const c = [
    String(s.t).padStart(5),
    s.phase.padEnd(6),
    (s.rssKiB / 1024).toFixed(1).padStart(7),
    String(s.fds).padStart(4),
    String(s.deletedFds).padStart(4),
    String(s.watches).padStart(7),
    String(s.dirs).padStart(6),
    String(s.threads).padStart(4),
    String(s.stateKiB).padStart(8),
    String(s.logKiB).padStart(7),
    s.fdKinds,
  ];
  return c.join(" ");
}
const HEAD = "    t phase  RSS MiB  fds  del watches   dirs thr state KiB log KiB fd kinds";

// ---- the session --------------------------------------------------------------------------

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(REPO, "src/main.ts"), ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, out: dec.decode(out.stdout), err: dec.decode(out.stderr) };
}

async function main() {
  console.error(`scratch: ${work}; generating ${opts.files} files`);
  generate(src1, Math.round(opts.files * 0.8));
  generate(src2, Math.round(opts.files * 0.2));
  Deno.mkdirSync(logs);
  writeConfig();
  const out = await Deno.open(join(work, "watch.out"), { write: true, create: true });
  const err = await Deno.open(join(work, "watch.err"), { write: true, create: true });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `--v8-flags=${V8_FLAGS}`,
      join(REPO, "src/main.ts"),
      "watch",
      "--config",
      configFile,
      "--json",
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const outDone = child.stdout.pipeTo(out.writable);
  const errDone = child.stderr.pipeTo(err.writable);
  const pid = child.pid;
  const t0 = performance.now();
  // Started once a log says so.
  for (;;) {
    await sleep(500);
    const text = [...Deno.readDirSync(logs)].map((e) => Deno.readTextFileSync(join(logs, e.name)))
      .join("");
    if (text.includes("Watch started")) break;
    if (performance.now() - t0 > 300_000) throw new Error("the watch did not start in 5 min");
  }
  const samples: Sample[] = [];
  let phase = "start";
  const take = () => {
    const s = sample(pid, phase, t0);
    samples.push(s);
    console.error(row(s));
  };
  console.error(HEAD);
  await sleep(5000);
  take();
  const sampler = setInterval(take, opts.sampleS * 1000);
  phase = "churn";
  const end = performance.now() + opts.minutes * 60_000;
  while (performance.now() < end) {
    const [opName, , f] = drawOp();
    stats[opName] = (stats[opName] ?? 0) + 1;
    await f();
    await sleep(50 + rnd() * 400);
  }
  // The sources back, the config as at the start, then idle.
  for (const r of [src1, src2]) {
    if (!exists(r) && exists(r + ".away")) Deno.renameSync(r + ".away", r);
  }
  cfg.second = true;
  cfg.excludeLog = false;
  writeConfig();
  phase = "idle";
  await sleep(opts.idleS * 500);
  take();
  const idleBoth = samples[samples.length - 1];
  // Then the second source taken out of the config: its folders are no longer followed.
  cfg.second = false;
  writeConfig();
  phase = "idle-1";
  await sleep(opts.idleS * 500);
  clearInterval(sampler);
  take();
  const last = samples[samples.length - 1];
  const first = samples[0];
  child.kill("SIGTERM");
  const status = await child.status;
  await Promise.allSettled([outDone, errDone]);

  console.log(HEAD);
  for (const s of samples) console.log(row(s));
  console.log(`\nops: ${Object.entries(stats).map(([k, n]) => `${k} ${n}`).join(", ")}`);
  const problems: string[] = [];
  if (idleBoth.watches !== idleBoth.dirs) {
    problems.push(
      `inotify watches ${idleBoth.watches} idle (both sources), folders present ${idleBoth.dirs}`,
    );
  }
  if (last.watches !== last.dirs) {
    problems.push(
      `inotify watches ${last.watches} idle after the second source was taken out of the ` +
        `config, folders followed ${last.dirs}`,
    );
  }
  // Fewer is no leak: the session's first worker of watchers (watcher_host.ts) was seen
  // holding an epoll and an eventfd more than those made after it.
  if (last.fds > first.fds) {
    problems.push(`descriptors ${first.fds} at the start, ${last.fds} idle`);
  }
  if (last.deletedFds > 0) problems.push(`${last.deletedFds} descriptors of deleted files held`);
  if (last.threads > first.threads + 2) {
    problems.push(`threads ${first.threads} at the start, ${last.threads} idle`);
  }
  if (status.code !== 0) problems.push(`the watch exited ${status.code} on SIGTERM`);
  const verify = await cli(["verify", "--config", configFile]);
  if (verify.code !== 0) problems.push(`verify exited ${verify.code}: ${verify.out}${verify.err}`);
  const run = await cli(["run", "--config", configFile, "--json"]);
  const counts = JSON.parse(run.out || "{}").counts ?? {};
  const did = Object.entries(counts).filter(([k, n]) => k !== "skip" && n !== 0);
  if (run.code !== 0 || did.length > 0) {
    problems.push(`the run after it: exit ${run.code}, ${JSON.stringify(counts)}`);
  }
  const to = join(work, "restored");
  const restore = await cli(["restore", "--config", configFile, "--to", to]);
  if (restore.code !== 0) problems.push(`restore exited ${restore.code}: ${restore.err}`);
  for (const [src, nm] of [[src1, "src1"], [src2, "src2"]]) {
    const d = await new Deno.Command("diff", {
      args: ["-r", "--no-dereference", "-x", "*.tmp", src, join(to, nm)],
      stdout: "piped",
    }).output();
    if (d.code !== 0) {
      const text = new TextDecoder().decode(d.stdout).split("\n").slice(0, 5).join("\n");
      problems.push(`restore of ${nm} differs from the source:\n${text}`);
    }
  }
  const mib = (k: number) => (k / 1024).toFixed(1);
  console.log(
    `\nstart → idle end: RSS ${mib(first.rssKiB)} → ${mib(last.rssKiB)} MiB, fds ${first.fds} → ` +
      `${last.fds}, watches ${first.watches} → ${last.watches} (folders ${first.dirs} → ` +
      `${last.dirs}), threads ${first.threads} → ${last.threads}, state ${first.stateKiB} → ` +
      `${last.stateKiB} KiB, logs ${first.logKiB} → ${last.logKiB} KiB; exit on SIGTERM ` +
      `${status.code}; run after: ${JSON.stringify(counts)}`,
  );
  console.log(problems.length ? `\nPROBLEMS:\n- ${problems.join("\n- ")}` : "\nno problem found");
  if (!opts.keep) Deno.removeSync(work, { recursive: true });
  else console.log(`kept: ${work}`);
  Deno.exit(problems.length ? 1 : 0);
}

await main();
