/**
 * `logDirRemedy`: the folder a refused log_dir is told to take instead is never inside the
 * backup root, on either platform's paths, a backup disk given whole ("E:\") included.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { logDirRemedy } from "./preflight.ts";

Deno.test("logDirRemedy: a folder beside the backup root, as the config writes it", () => {
  const { posix, win32 } = path;
  assert.equal(
    logDirRemedy("/mnt/usb", "/mnt/usb/config.jsonc", "/home/me", posix),
    'put the logs beside it, e.g. "log_dir": "../logs"',
  );
  assert.equal(
    logDirRemedy("/srv/logs", "/srv/config.jsonc", "/home/me", posix),
    'put the logs beside it, e.g. "log_dir": "./run-logs"',
  );
  assert.equal(
    logDirRemedy("E:\\backup", "C:\\Users\\me\\config.jsonc", "C:\\Users\\me", win32),
    'put the logs beside it, e.g. "log_dir": "E:\\\\logs"',
  );
});

Deno.test("logDirRemedy: a backup root that is a disk's own root has nothing beside it: another disk", () => {
  const { posix, win32 } = path;
  for (const file of ["E:\\config.jsonc", "C:\\Users\\me\\config.jsonc"]) {
    assert.equal(
      logDirRemedy("E:\\", file, "C:\\Users\\me", win32),
      'put the logs on another disk, e.g. "log_dir": "C:\\\\Users\\\\me\\\\backup-logs"',
    );
  }
  // A home folder inside it, or none to tell: no example.
  assert.equal(
    logDirRemedy("E:\\", "E:\\c.jsonc", "E:\\me", win32),
    "put the logs on another disk",
  );
  assert.equal(logDirRemedy("/", "/etc/c.jsonc", "/root", posix), "put the logs on another disk");
  assert.equal(logDirRemedy("/", "/etc/c.jsonc", undefined, posix), "put the logs on another disk");
});
