/**
 * Joining and splitting file paths without importing `node:path` on Linux and macOS: importing it
 * makes Deno load its Node polyfills (errors, validators, primordials), which an agent that only
 * joins a directory and a name would keep in memory for its life (`docs/architecture.md`,
 * "Memory is the runtime's first"). POSIX paths are handled here with `node:path`'s results, which
 * `tests/file_path_test.ts` checks against it for any path; on Windows these functions are
 * `node:path`'s own (`win32`: drive letters, UNC names, both separators), loaded at start.
 *
 * @module
 */

/** `node:path`'s Windows functions, only where they are the platform's. */
const win32 = Deno.build.os === "windows" ? (await import("node:path")).win32 : undefined;

/** `path` with `.` and `..` resolved and separators collapsed, as `node:path` `posix.normalize`. */
export function posixNormalize(path: string): string {
  if (path === "") return ".";
  const absolute = path.startsWith("/");
  const trailing = path.endsWith("/");
  const kept: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part !== "..") kept.push(part);
    else if (kept.length > 0 && kept[kept.length - 1] !== "..") kept.pop();
    else if (!absolute) kept.push("..");
  }
  let body = kept.join("/");
  if (body === "" && !absolute) body = ".";
  if (body !== "" && trailing) body += "/";
  return absolute ? `/${body}` : body;
}

/** The non-empty parts joined by `/`, then normalized, as `node:path` `posix.join`. */
export function posixJoin(...parts: readonly string[]): string {
  const joined = parts.filter((part) => part !== "").join("/");
  return joined === "" ? "." : posixNormalize(joined);
}

/** The directory part of `path`, as `node:path` `posix.dirname`. */
export function posixDirname(path: string): string {
  if (path === "") return ".";
  const rooted = path.startsWith("/");
  let end = -1;
  let trailingSlashes = true;
  for (let i = path.length - 1; i >= 1; i--) {
    if (path[i] !== "/") trailingSlashes = false;
    else if (!trailingSlashes) {
      end = i;
      break;
    }
  }
  if (end === -1) return rooted ? "/" : ".";
  if (rooted && end === 1) return "//";
  return path.slice(0, end);
}

/** The last part of `path`, trailing separators ignored, as `node:path` `posix.basename`. */
export function posixBasename(path: string): string {
  let end = path.length;
  while (end > 0 && path[end - 1] === "/") end--;
  return path.slice(path.lastIndexOf("/", end - 1) + 1, end);
}

/** The parts joined by the platform's separator and normalized (`node:path` `join`). */
export function join(...parts: readonly string[]): string {
  return win32 ? win32.join(...parts) : posixJoin(...parts);
}

/** The directory part of `path` on this platform (`node:path` `dirname`). */
export function dirname(path: string): string {
  return win32 ? win32.dirname(path) : posixDirname(path);
}

/** The last part of `path` on this platform (`node:path` `basename`). */
export function basename(path: string): string {
  return win32 ? win32.basename(path) : posixBasename(path);
}

/** `path` normalized on this platform (`node:path` `normalize`). */
export function normalize(path: string): string {
  return win32 ? win32.normalize(path) : posixNormalize(path);
}
