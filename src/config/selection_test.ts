import assert from "node:assert/strict";
import { clearSelection, commandHint, selectBackup, shellWord } from "./selection.ts";

Deno.test("commandHint: the option that selected the backup, where the command takes it", () => {
  clearSelection();
  try {
    assert.equal(commandHint("verify --repair"), "verify --repair");
    selectBackup("backup-root", "/media/usb/backup");
    assert.equal(commandHint("verify --repair"), "verify --repair --backup-root /media/usb/backup");
    assert.equal(commandHint("history PATH"), "history PATH --backup-root /media/usb/backup");
    // run, plan, watch and purge take a config only.
    assert.equal(commandHint("run --force"), "run --force");
    assert.equal(commandHint("purge PATH"), "purge PATH");
    selectBackup("config", "/etc/backup-tool/config.jsonc");
    assert.equal(commandHint("run --force"), "run --force --config /etc/backup-tool/config.jsonc");
  } finally {
    clearSelection(); // the other tests of this process see none
  }
});

Deno.test("shellWord: bare where a shell reads it so, else double-quoted, escaped on POSIX", () => {
  assert.equal(shellWord("/a/b-c_d.jsonc", "linux"), "/a/b-c_d.jsonc");
  assert.equal(shellWord("/my dir/c.jsonc", "linux"), '"/my dir/c.jsonc"');
  assert.equal(shellWord('/a/$x`"\\', "linux"), '"/a/\\$x\\`\\"\\\\"');
  assert.equal(shellWord("C:\\My Backup", "windows"), '"C:\\My Backup"');
});
