/**
 * The keys a TOML document defines, with their lines: what configtest compares with the decoded
 * keys, and where the loader's error messages point.
 *
 * @module
 */

/** A key defined by a TOML document, with the line it is defined on. */
export interface KeyLine {
  readonly path: readonly string[];
  readonly line: number;
}

/**
 * Lists the keys a (valid) TOML document defines, in BurntSushi/toml's order: table headers,
 * key/value pairs (full dotted path) and keys inside inline tables. Tables created implicitly by
 * a dotted key or header are not listed, as upstream does not list them either.
 */
export function scanKeys(text: string): KeyLine[] {
  const out: KeyLine[] = [];
  const lineStarts = [0];
  for (let p = text.indexOf("\n"); p !== -1; p = text.indexOf("\n", p + 1)) lineStarts.push(p + 1);
  const lineAt = (pos: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  let i = 0;
  const skip = (newlines: boolean) => {
    while (i < text.length) {
      const c = text[i];
      if (c === " " || c === "\t" || (newlines && (c === "\n" || c === "\r"))) i++;
      else if (c === "#") { while (i < text.length && text[i] !== "\n") i++; }
      else break;
    }
  };
  const readQuoted = (quote: string): string => {
    let value = "";
    i++;
    while (i < text.length && text[i] !== quote) {
      if (quote === '"' && text[i] === "\\") {
        const [ch, len] = unescape(text, i);
        value += ch;
        i += len;
      } else value += text[i++];
    }
    i++;
    return value;
  };
  const readKey = (): string[] => {
    const parts: string[] = [];
    for (;;) {
      skip(false);
      const c = text[i];
      if (c === '"' || c === "'") parts.push(readQuoted(c));
      else {
        const bare = /[A-Za-z0-9_-]*/y;
        bare.lastIndex = i;
        const word = bare.exec(text)![0];
        parts.push(word);
        i += word.length;
      }
      skip(false);
      if (text[i] !== ".") return parts;
      i++;
    }
  };
  const skipMultiline = (delim: string) => {
    i += 3;
    while (i < text.length && !text.startsWith(delim, i)) {
      i += delim === '"""' && text[i] === "\\" ? 2 : 1;
    }
    i += 3;
    // Up to two quotes right before the closing delimiter belong to the string.
    for (let n = 0; n < 2 && text[i] === delim[0]; n++) i++;
  };
  const skipValue = (path: readonly string[]) => {
    const c = text[i];
    if (text.startsWith('"""', i) || text.startsWith("'''", i)) skipMultiline(text.slice(i, i + 3));
    else if (c === '"' || c === "'") readQuoted(c);
    else if (c === "[" || c === "{") {
      const close = c === "[" ? "]" : "}";
      i++;
      while (i < text.length) {
        skip(true);
        if (text[i] === close) break;
        const before = i;
        if (c === "[") skipValue(path);
        else keyValue(path);
        skip(true);
        if (text[i] === ",") i++;
        else if (i === before) i++;
      }
      i++;
    } else {
      const scalar = /[^,\]}\r\n#]*/y;
      scalar.lastIndex = i;
      i += scalar.exec(text)![0].length;
    }
  };
  const keyValue = (context: readonly string[]) => {
    skip(false);
    const at = i;
    const path = [...context, ...readKey()];
    skip(false);
    i++; // "="
    skip(false);
    skipValue(path);
    out.push({ path, line: lineAt(at) });
  };
  let context: readonly string[] = [];
  while (i < text.length) {
    skip(true);
    if (i >= text.length) break;
    const at = i;
    if (text[i] === "[") {
      const array = text[i + 1] === "[";
      i += array ? 2 : 1;
      context = readKey();
      i += array ? 2 : 1;
      out.push({ path: context, line: lineAt(at) });
    } else {
      keyValue(context);
    }
    if (i === at) i++;
  }
  return out;
}

/** One escape sequence of a basic string at `pos` (a backslash): the character and its length. */
function unescape(text: string, pos: number): [string, number] {
  const c = text[pos + 1];
  const simple: Record<string, string> = {
    b: "\b",
    t: "\t",
    n: "\n",
    f: "\f",
    r: "\r",
    e: "\x1b",
    '"': '"',
    "\\": "\\",
  };
  if (c in simple) return [simple[c], 2];
  const width = c === "u" ? 4 : c === "U" ? 8 : c === "x" ? 2 : 0;
  if (width === 0) return [c ?? "", 2];
  const code = parseInt(text.slice(pos + 2, pos + 2 + width), 16);
  return [String.fromCodePoint(code), 2 + width];
}
