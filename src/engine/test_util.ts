/** Test helper for the engine's unit tests: a test body run in an empty temporary folder. */

/** A test function that runs `fn` in a new temporary folder and removes it afterwards. */
export function withDir(fn: (dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const dir = Deno.makeTempDirSync();
    try {
      await fn(dir);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  };
}
