// Machine description and result formatting: Markdown tables for people (paste-able into
// bench/README.md; the watch scenarios' rows in a table of their own) and a JSON document
// (--json, and always saved under bench/work/results/).

import type { Row } from "./scenarios.ts";
import { figureCells } from "./watch_figures.ts";
import { fsWarning, type WorkFs } from "./workfs.ts";

export interface Machine {
  date: string;
  cpu: string;
  cores: number;
  memGiB: number;
  kernel: string;
  fs: string; // type of the work file system, e.g. "ext4" (details in workFs)
  workFs: WorkFs;
  deno: string;
  loadavg: number[]; // 1/5/15-minute load before the first scenario
  tools: Record<string, string>;
}

export async function describeMachine(
  tools: Record<string, string>,
  workFs: WorkFs,
): Promise<Machine> {
  let cpu = "unknown";
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    cpu = info.match(/^model name\s*:\s*(.+)$/m)?.[1].trim() ?? cpu;
  } catch { /* not Linux */ }
  return {
    date: new Date().toISOString(),
    cpu,
    cores: navigator.hardwareConcurrency,
    memGiB: Math.round(Deno.systemMemoryInfo().total / 2 ** 30),
    kernel: Deno.osRelease(),
    fs: workFs.type,
    workFs,
    deno: Deno.version.deno,
    loadavg: Deno.loadavg(),
    tools,
  };
}

export function machineText(m: Machine): string {
  const fsWarn = fsWarning(m.workFs);
  return [
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB RAM, Linux ${m.kernel}`,
    `Work fs: ${m.workFs.text}`,
    `Deno ${m.deno}; ${Object.entries(m.tools).map(([k, v]) => `${k}: ${v}`).join("; ")}`,
    `Date: ${m.date}; load average at start ${m.loadavg.map((x) => x.toFixed(2)).join(" ")}`,
    // On 2 cores a concurrent build or test run easily doubles timings.
    ...(m.loadavg[0] > 0.5 ? ["WARNING: the machine is busy; timings will be noisy."] : []),
    ...(fsWarn ? [fsWarn] : []),
  ].join("\n");
}

/** Fills in each row's wall-clock ratio to the rsync row of the same scenario. */
export function addRatios(rows: Row[]): void {
  for (const r of rows) {
    const base = rows.find((x) => x.id === r.id && x.tool === "rsync" && x.status !== "FAILED");
    if (base && r.status !== "FAILED" && base.wall > 0) r.ratio = r.wall / base.wall;
  }
}

const num = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : "—");

export function table(rows: Row[]): string {
  const head = [
    "tree",
    "scenario",
    "tool",
    "wall s",
    "CPU s",
    "peak RSS MiB",
    "× rsync",
    "runs",
    "status",
  ];
  const body = rows.map((r) => [
    r.tree,
    r.scenario,
    r.tool,
    num(r.wall, 2),
    num(r.cpu, 2),
    num(r.rssMiB, 0),
    r.ratio === undefined ? "—" : `${r.ratio.toFixed(2)}×`,
    String(r.samples.length),
    statusCell(r),
  ]);
  return markdown(head, body, new Set([3, 4, 5, 6, 7]));
}

/**
 * The watch scenarios' rows (Row.watch): latency in ms beyond the debounce, from each write's
 * end to its new bytes at their backup path; idle CPU as clock ticks (ms) per window. `n` is
 * the number of writes or windows; "—" where a column does not apply.
 */
export function watchTable(rows: Row[]): string {
  const head = [
    "tree",
    "scenario",
    "tool",
    "measure",
    "median",
    "max",
    "target",
    "met",
    "n",
    "peak RSS MiB",
    "status",
  ];
  const body = rows.map((r) => {
    const w = r.watch!;
    const measure = w.kind === "latency"
      ? "write → new bytes in backup, beyond the debounce"
      : `CPU (user + sys), clock ticks (ms) per ${w.windowS} s`;
    return [
      r.tree,
      r.scenario,
      r.tool,
      measure,
      ...figureCells(w),
      String(w.values.length),
      num(r.rssMiB, 0),
      statusCell(r),
    ];
  });
  return markdown(head, body, new Set([4, 5, 8, 9]));
}

function statusCell(r: Row): string {
  return r.status === "ok" ? "ok" : `${r.status}: ${truncate(r.note ?? "", 70)}`;
}

/** A Markdown table, its columns padded; `right`: the indices of right-aligned columns. */
function markdown(head: string[], body: string[][], right: Set<number>): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    "| " +
    cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(" | ") +
    " |";
  const rule = "|" +
    widths.map((w, i) => (right.has(i) ? "-".repeat(w + 1) + ":" : "-".repeat(w + 2))).join("|") +
    "|";
  return [line(head), rule, ...body.map(line)].join("\n");
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : s.slice(0, n - 1) + "…";
}

export function toJson(machine: Machine, options: Record<string, unknown>, rows: Row[]): string {
  return JSON.stringify(
    {
      machine,
      options,
      results: rows.map((r) => ({
        ...r,
        wall: finite(r.wall),
        cpu: finite(r.cpu),
        rssMiB: finite(r.rssMiB),
      })),
    },
    null,
    2,
  );
}

function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
