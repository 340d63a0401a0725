/**
 * Where retention keeps versions by day, week or month in the zone the command runs in
 * (`retention.time_zone` "local") and Deno misreads that zone (`TZ` a POSIX rule such as
 * `IST-5:30`, read as UTC), `run` and `plan` warn on stderr, with the key to set; a named
 * `time_zone`, or no period kept, says nothing. The CLI in a child process with its `TZ`.
 */
import assert from "node:assert/strict";
import { makeFixture, runCli, writeConfig } from "./helpers.ts";

const BASE = { sources: ["./source"], backup_root: "./backup", log_dir: "./logs" };

Deno.test("keep_daily with time_zone local under a TZ Deno reads as UTC: run and plan warn, with the remedy", async () => {
  using fx = makeFixture({ "a.txt": "a\n" }, { retention: { keep_daily: 7 } });
  const env = { TZ: "IST-5:30" };
  for (const command of ["plan", "run"]) {
    const r = await runCli([command, "--config", fx.config, "-q"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /^WARNING: TZ 'IST-5:30' is a POSIX rule, which Deno reads as UTC, so retention's keep_daily, keep_weekly and keep_monthly cut days, weeks and months there \(retention\.time_zone "local"\): set retention\.time_zone in '.*config\.jsonc' to the zone meant, an IANA name such as "Europe\/Berlin"\n$/,
      command,
    );
  }
  // A zone named, or no period kept: nothing to say.
  for (const retention of [{ keep_daily: 7, time_zone: "Asia/Kolkata" }, { keep_daily: 0 }]) {
    writeConfig(fx.config, { ...BASE, retention });
    const r = await runCli(["plan", "--config", fx.config, "-q"], { env });
    assert.equal(r.stderr, "", JSON.stringify(retention));
  }
});
