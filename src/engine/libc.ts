/**
 * The C library through Deno's FFI, for the few Linux calls Deno has no API for: syncfs,
 * and getdents64 and statx relative to a folder's descriptor. Only on Linux with glibc and
 * FFI permitted (`deno run -A`; the compiled binary is built without it); every user falls
 * back to Deno's own API where `openLibc` gives nothing. Nothing here writes.
 */

/** open(2) flags O_RDONLY | O_CLOEXEC: the same value on every Linux architecture. */
export const O_RDONLY_CLOEXEC = 0o2000000;

/** The symbols every user needs: a descriptor's open and close, and errno. */
export const FILE_SYMBOLS = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

/** glibc with `symbols` bound, or undefined (not Linux, FFI not permitted, or not glibc). */
export function openLibc<const S extends Deno.ForeignLibraryInterface>(
  symbols: S,
): Deno.DynamicLibrary<S> | undefined {
  if (Deno.build.os !== "linux") return undefined;
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return undefined;
  try {
    return Deno.dlopen("libc.so.6", symbols);
  } catch {
    return undefined; // another C library, or a symbol this glibc lacks
  }
}

/** The calling thread's errno, right after a failed call. */
export function errnoOf(lib: Deno.DynamicLibrary<typeof FILE_SYMBOLS>): number {
  const at = lib.symbols.__errno_location();
  return at === null ? 0 : new Deno.UnsafePointerView(at).getInt32();
}
