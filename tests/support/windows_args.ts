/**
 * Splits a Windows command line into argv as the Microsoft C runtime (2008 and later) does for
 * the words after the program name, the rules Rust's `std::env::args` follows too: the tests
 * check that what the service writes is read back as meant.
 *
 * @module
 */

/** The argv of `line`, by the C runtime's rules. */
export function splitWindowsArgs(line: string): string[] {
  const args: string[] = [];
  let current = "";
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < line.length;) {
    const char = line[i];
    if (!quoted && (char === " " || char === "\t")) {
      if (inWord) args.push(current);
      current = "";
      inWord = false;
      i++;
      continue;
    }
    inWord = true;
    if (char === "\\") {
      let n = 0;
      while (line[i + n] === "\\") n++;
      if (line[i + n] === '"') {
        // 2n backslashes and a quote: n backslashes, the quote delimits; 2n+1: n and a quote.
        current += "\\".repeat(Math.floor(n / 2));
        if (n % 2 === 1) current += '"';
        else quoted = !quoted;
        i += n + 1;
      } else {
        current += "\\".repeat(n);
        i += n;
      }
      continue;
    }
    if (char === '"') {
      // Inside quotes, "" is one literal quote and the quoting goes on.
      if (quoted && line[i + 1] === '"') {
        current += '"';
        i += 2;
      } else {
        quoted = !quoted;
        i++;
      }
      continue;
    }
    current += char;
    i++;
  }
  if (inWord) args.push(current);
  return args;
}
