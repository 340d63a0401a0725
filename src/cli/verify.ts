/**
 * `verify`: re-hashes the stored copies (all, or a random sample) and compares them with
 * the state; reports missing copies, changed ones (bit rot, tampering) and files in the
 * backup root that the state does not know. Reads only; no lock is taken, so run it while
 * no backup is running.
 */
import { loadConfigFor, withState } from "../restore/open.ts";
import { verifyBackup, type VerifyReport } from "../restore/verify.ts";
import { flag, parseCommand, str, UsageError } from "./args.ts";

export const VERIFY_HELP = `Usage: backup-tool verify [--sample PERCENT] [--config FILE] [--json]

Checks that the backup is intact: every stored copy the state records must exist and
still have its recorded hash, and the backup root must hold no file the state does not
know (.backup-tool/ and the log folder are not checked). Every copy's presence is always
checked; --sample re-hashes only a random share of them.

Options:
  --sample PERCENT  Re-hash a random PERCENT (above 0, up to 100, decimals allowed) of the copies
  --config FILE     Config file (default ./config.jsonc, then ./config.json)
  --json            Print { ok, checked, total, missing, changed, unknown }
  --quiet           Print nothing but problems

Exit codes: 0 intact, 1 something is missing, changed or unknown (each is named),
2 usage or configuration error.

Examples:
  backup-tool verify
  backup-tool verify --sample 5 --json | jq .changed`;

export async function verifyCommand(argv: string[]): Promise<number> {
  const p = parseCommand("verify", argv, { string: ["sample"] });
  if (flag(p, "help")) {
    console.log(VERIFY_HELP);
    return 0;
  }
  if (p.positionals.length > 0) {
    throw new UsageError(
      `Unexpected argument '${p.positionals[0]}' for 'verify': see 'verify --help'`,
    );
  }
  const samplePercent = readSample(str(p, "sample"));
  const config = loadConfigFor(str(p, "config"));
  const copies = withState(config, (store) => store.storedCopies());
  const report = await verifyBackup(config.backupRoot, copies, { samplePercent });
  if (flag(p, "json")) console.log(JSON.stringify(report, null, 2));
  else printReport(report, flag(p, "quiet"), samplePercent);
  return report.ok ? 0 : 1;
}

function readSample(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!(n > 0 && n <= 100)) {
    throw new UsageError(
      `Invalid --sample value '${text}': expected a percentage above 0 and at most 100, e.g. 5`,
    );
  }
  return n;
}

function printReport(r: VerifyReport, quiet: boolean, sample?: number): void {
  for (const m of r.missing) console.error(`MISSING: ${m.file} (${m.path} v${m.version})`);
  for (const c of r.changed) {
    console.error(
      `CHANGED: ${c.file} (${c.path} v${c.version}): expected ${c.algo} ${c.expected}, ` +
        `found ${c.found}`,
    );
  }
  for (const u of r.unknown) console.error(`UNKNOWN: ${u.file} (not recorded in the state)`);
  if (quiet && r.ok) return;
  const sampled = sample === undefined ? "" : ` (a ${sample}% sample)`;
  console.log(
    r.ok
      ? `Verify: all ${r.total} stored copies present, ${r.checked} re-hashed${sampled}: intact`
      : `Verify failed: ${r.missing.length} missing, ${r.changed.length} changed, ` +
        `${r.unknown.length} unknown file(s); ${r.checked} re-hashed${sampled}`,
  );
}
