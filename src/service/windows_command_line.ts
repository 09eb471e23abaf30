/**
 * Windows command lines: one string the callee splits into argv itself.
 *
 * A service's `binPath` is such a line, and so are the arguments a wrapper hands its child. Each
 * word is quoted as the Microsoft C runtime (and Rust's `std::env::args`, which the service
 * wrapper uses) splits them: a word with a space, tab or quote is wrapped in quotes, a quote inside
 * it is written `\"`, and backslashes are doubled only where they precede a quote.
 *
 * @module
 */

/** One argv word written so that the C runtime's splitting gives it back unchanged. */
export function quoteWindowsArg(arg: string): string {
  if (arg.includes("\0")) throw new RangeError(`a command-line word cannot hold NUL: ${arg}`);
  if (arg !== "" && !/[ \t\n\v"]/.test(arg)) return arg;
  let out = '"';
  let backslashes = 0;
  for (const char of arg) {
    if (char === "\\") {
      backslashes++;
      continue;
    }
    // Backslashes before a quote are doubled, and the quote escaped; elsewhere they stay as is.
    out += char === '"' ? "\\".repeat(backslashes * 2 + 1) + '"' : "\\".repeat(backslashes) + char;
    backslashes = 0;
  }
  // Before the closing quote they are doubled too, so the last one does not escape it.
  return out + "\\".repeat(backslashes * 2) + '"';
}

/** A whole command line from argv, each word quoted by {@linkcode quoteWindowsArg}. */
export function joinWindowsArgs(args: readonly string[]): string {
  return args.map(quoteWindowsArg).join(" ");
}
