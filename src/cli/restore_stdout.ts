/**
 * `restore PATH --to -`: one file's content on standard output, as `tar -xOf`, `curl -o -`
 * and `restic dump` write theirs. The options that mean nothing there (several PATHs or
 * none, `--include`, `--exclude`, `--overwrite`, `--dry-run`, `--json`) are refused before
 * anything is read; restore/stream_out.ts writes the content. Standard output carries
 * nothing but its bytes: every line (warnings, problems, the summary) goes to standard
 * error. A reader gone (`| head -c 10`) ends it quietly, exit 0. Nothing is written but
 * standard output, so an interruption (a signal ends it at once) leaves nothing behind.
 */
import type { Config } from "../config/config.ts";
import { errorText } from "../engine/errors.ts";
import { formatBytes } from "../core/format_bytes.ts";
import { oneLine } from "../log/one_line.ts";
import type { RestoreRequest } from "../restore/request.ts";
import { restoreToStream } from "../restore/stream_out.ts";
import { flag, type Parsed, UsageError } from "./args.ts";
import { choosingHooks } from "./restore_output.ts";
import { Output, warn } from "./stdout.ts";
import { commandHint } from "../config/selection.ts";

/** What `--to` is given to mean standard output. */
export const TO_STDOUT = "-";

/** Refuses what does not go with `--to -` (exit 2, one line naming the option and the fix). */
export function checkStdoutOptions(p: Parsed): void {
  const refuse = (option: string, why: string) => {
    throw new UsageError(`Cannot use ${option} with --to -: ${why}: see 'restore --help'`);
  };
  const paths = p.positionals.length;
  if (paths === 0) {
    throw new UsageError(
      "Cannot use --to - without a PATH: it writes one file's content to standard output: " +
        "give that file's PATH: see 'restore --help'",
    );
  }
  if (paths > 1) {
    refuse("several PATHs", "it writes one file's content: give one file's PATH");
  }
  if (flag(p, "json")) {
    refuse("--json", "standard output carries the file's bytes alone: drop --json");
  }
  if (p.values.include !== undefined || p.values.exclude !== undefined) {
    refuse(
      p.values.include !== undefined ? "--include" : "--exclude",
      "it writes one file's content: give that file's PATH alone",
    );
  }
  if (flag(p, "overwrite")) refuse("--overwrite", "it replaces no file: drop --overwrite");
  if (flag(p, "dry-run")) {
    refuse(
      "--dry-run",
      `it writes no file: drop --dry-run ('${commandHint("ls PATH")}' names the content it ` +
        "would write)",
    );
  }
}

/** Writes the content `request` names to standard output; the exit code. */
export async function restoreToStdout(
  config: Config,
  request: RestoreRequest,
  quiet: boolean,
): Promise<number> {
  const out = new Output(Deno.stdout);
  const hooks = choosingHooks(false, () => {});
  const r = await restoreToStream(config, request, hooks, out);
  const asOf = request.at === undefined ? "" : ` (as of ${new Date(request.at).toISOString()})`;
  const named = r.copy === undefined ? "" : `${r.copy.path} (v${r.copy.seq})`;
  if (r.note !== undefined) warn(oneLine(`WARNING: ${named}: ${r.note}`));
  if (out.readerGone) return 0; // `| head`: the reader has what it wanted
  if (out.failure !== undefined) {
    warn(oneLine(
      `Cannot write to standard output: ${errorText(out.failure)}: ${named} was cut short ` +
        "there: restore it again where it can be written",
    ));
    return 1;
  }
  if (r.damagedOutput !== undefined) {
    warn(oneLine(
      `ERROR: ${named}: the output is damaged: ${r.damagedOutput}: discard them; restore ` +
        "it with --to DIR, which reads another stored copy of the same bytes where the " +
        `backup holds one, and run '${commandHint("verify")}'`,
    ));
    return 1;
  }
  if (r.cutShort !== undefined) {
    warn(oneLine(
      `ERROR: ${named}: the output is cut short: ${r.cutShort}: discard them; run ` +
        `'${commandHint("verify")}' to check the backup`,
    ));
    return 1;
  }
  for (const p of r.problems) {
    const name = p.path === "" ? "" : ` ${p.path}${p.version ? ` (v${p.version})` : ""}:`;
    warn(oneLine(`NOT RESTORED:${name} ${p.reason}`));
  }
  if (r.problems.length > 0) {
    warn(`Restore incomplete${asOf}: nothing was written to standard output`);
    return 1;
  }
  if (!quiet) {
    warn(oneLine(
      `Restore complete${asOf}: ${named}, ${formatBytes(r.written)}, written to standard output`,
    ));
  }
  return 0;
}
