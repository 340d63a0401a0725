/**
 * Helpers for the watch tests: the `watch` command as a subprocess whose output is
 * collected while it runs, waits that poll the backup, and file checks.
 */
import { join } from "node:path";
import { type Fixture, poll, toolCommand } from "./helpers.ts";

/** Deadline of every wait: the machine is small and shared, so generous. */
export const DEADLINE_MS = 30_000;

export interface Exit {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
}

/** A running `watch --config <fixture config>`; dispose kills it if still running. */
export class WatchProcess {
  stdout = "";
  stderr = "";
  readonly #child: Deno.ChildProcess;
  readonly #readers: Promise<void>[];
  readonly #fx: Fixture;
  /** The log files there before this session: its own is a new one. */
  readonly #logsBefore: Set<string>;
  #exit: Promise<Exit> | undefined;

  /**
   * `prefix`: a command that runs the tool, as `asNobody` gives one (reliability/util.ts).
   * BACKUP_TOOL_PERMISSIONS in `env` says how this one is run (see `toolCommand`).
   */
  constructor(
    fx: Fixture,
    extra: string[] = [],
    env: Record<string, string> = {},
    prefix: string[] = [],
  ) {
    this.#fx = fx;
    this.#logsBefore = new Set(logNames(fx));
    const tool = toolCommand(
      ["watch", "--config", fx.config, ...extra],
      env.BACKUP_TOOL_PERMISSIONS ?? Deno.env.get("BACKUP_TOOL_PERMISSIONS"),
    );
    const [cmd, ...args] = [...prefix, tool.cmd, ...tool.args];
    this.#child = new Deno.Command(cmd, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", ...env },
    }).spawn();
    this.#readers = [
      collect(this.#child.stdout, (t) => (this.stdout += t)),
      collect(this.#child.stderr, (t) => (this.stderr += t)),
    ];
  }

  /**
   * Waits until this session logged `Watch started` (its first pass is done), in its own
   * log: a count over every log would never rise once rotation removed an older one.
   */
  async ready(): Promise<void> {
    const started = () =>
      logNames(this.#fx).some((name) =>
        !this.#logsBefore.has(name) &&
        /^\S+ Watch started/m.test(readOrEmpty(join(this.#fx.logs, name)))
      );
    await poll(`'Watch started' (stderr: ${this.stderr})`, started, DEADLINE_MS);
  }

  /** The process id, to look at its threads in /proc. */
  get pid(): number {
    return this.#child.pid;
  }

  /**
   * Sends `signal` and waits for the process to end, within DEADLINE_MS: one still running
   * then is killed (SIGKILL), and the wait fails, saying it hung. Before, a watch that did
   * not end held its test forever (the disposal waited on this same wait, killing nothing).
   */
  stop(signal: Deno.Signal = "SIGTERM"): Promise<Exit> {
    if (!this.#exit) {
      try {
        this.#child.kill(signal);
      } catch { /* it has already exited */ }
      this.#exit = this.#waitOrKill(signal);
    }
    return this.#exit;
  }

  async #waitOrKill(signal: Deno.Signal): Promise<Exit> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<boolean>((resolve) => timer = setTimeout(resolve, DEADLINE_MS, true));
    try {
      if (await Promise.race([this.#child.status.then(() => false), late])) {
        this.#kill();
        const { stderr } = await this.#wait();
        throw new Error(
          `The watch did not end within ${DEADLINE_MS} ms of ${signal}: it hung and was ` +
            `killed (stderr: ${stderr})`,
        );
      }
    } finally {
      clearTimeout(timer);
    }
    return await this.#wait();
  }

  /** Settles when the process has ended, however (no timer of its own: nothing to leak). */
  get ended(): Promise<unknown> {
    return this.#child.status;
  }

  /** Waits for the process to end by itself, within DEADLINE_MS. */
  async exited(): Promise<Exit> {
    let ended = false;
    this.#child.status.then(() => ended = true);
    await poll("the watch to end by itself", () => ended, DEADLINE_MS);
    this.#exit ??= this.#wait();
    return this.#exit;
  }

  async #wait(): Promise<Exit> {
    const status = await this.#child.status;
    await Promise.all(this.#readers);
    return { code: status.code, signal: status.signal, stdout: this.stdout, stderr: this.stderr };
  }

  #kill(): void {
    try {
      this.#child.kill("SIGKILL");
    } catch { /* it has already exited */ }
  }

  /** Kills the process if it still runs, even one a stop was sent to (it may hang). */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#kill();
    await this.#wait();
  }
}

/** The names of the fixture's log files (none before its log_dir is made). */
function logNames(fx: Fixture): string[] {
  try {
    return [...Deno.readDirSync(fx.logs)].filter((e) => e.isFile).map((e) => e.name);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

/** A log's text, or "" where rotation removed it meanwhile. */
function readOrEmpty(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return "";
    throw e;
  }
}

async function collect(stream: ReadableStream<Uint8Array>, add: (t: string) => void) {
  for await (const text of stream.pipeThrough(new TextDecoderStream())) add(text);
}

/**
 * The text of a file, or undefined when it does not exist (nor can yet: a file is where
 * a folder on its way will be, as in a backup that has not caught up with a type change).
 */
export function readOrUndefined(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    throw e;
  }
}

/** Waits until `<root>/<rel>` holds `content` (or, with undefined, until it is gone). */
export function backedUp(root: string, rel: string, content: string | undefined): Promise<true> {
  const path = join(root, ...rel.split("/"));
  return poll(
    content === undefined ? `'${rel}' gone from the backup` : `'${rel}' in the backup`,
    () => readOrUndefined(path) === content,
    DEADLINE_MS,
  );
}

/** `count` filler files, so that deleting a few stays below the mass-deletion guard. */
export function filler(count = 10): Record<string, string> {
  const tree: Record<string, string> = {};
  for (let i = 0; i < count; i++) tree[`keep/k${i}.txt`] = `keep ${i}\n`;
  return tree;
}
