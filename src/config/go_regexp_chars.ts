/**
 * Go regexp characters and classes (escapes, `\pL`, `[:alpha:]`) as Go's `regexp/syntax` reads
 * them, spelled for V8's Unicode mode; the parser is ./go_regexp.ts.
 *
 * @module
 */

/** Go's `regexp/syntax` error codes. */
export const ERR = {
  charRange: "invalid character class range",
  escape: "invalid escape sequence",
  namedCapture: "invalid named capture",
  perlOp: "invalid or unsupported Perl syntax",
  repeatOp: "invalid nested repetition operator",
  repeatSize: "invalid repeat count",
  missingBracket: "missing closing ]",
  missingParen: "missing closing )",
  missingArgument: "missing argument to repetition operator",
  trailingBackslash: "trailing backslash at end of expression",
  unexpectedParen: "unexpected )",
} as const;

/** Go's `*syntax.Error` text. */
export function goError(code: string, expr: string): Error {
  return new Error(`error parsing regexp: ${code}: \`${expr}\``);
}

/** The first code point of `t` (`""` when empty). */
export function firstRune(t: string): string {
  return t === "" ? "" : String.fromCodePoint(t.codePointAt(0)!);
}

/** Go's `parseEscape` for a single character: `\.`, octal, `\x41`, `\x{263a}`, `\n` ... */
export function escape(s: string): { ch: string; rest: string } {
  let t = s.slice(1);
  if (t === "") throw goError(ERR.trailingBackslash, "");
  let c = firstRune(t);
  t = t.slice(c.length);
  const invalid = () => goError(ERR.escape, s.slice(0, s.length - t.length));
  const octal = (x: string | undefined) => x !== undefined && x >= "0" && x <= "7";
  if (c < "\x80" && !/^[0-9A-Za-z]$/.test(c)) return { ch: c, rest: t };
  if (c === "0" || (c >= "1" && c <= "7" && octal(t[0]))) {
    // Up to three octal digits; a lone `\1`...`\7` is a back-reference, which Go refuses.
    let r = Number(c);
    for (let i = 1; i < 3 && octal(t[0]); i++, t = t.slice(1)) r = r * 8 + Number(t[0]);
    return { ch: String.fromCodePoint(r), rest: t };
  }
  if (c === "x" && t !== "") {
    c = firstRune(t);
    t = t.slice(c.length);
    if (c === "{") {
      let r = 0;
      let digits = 0;
      for (;;) {
        if (t === "") throw invalid();
        c = firstRune(t);
        t = t.slice(c.length);
        if (c === "}") break;
        if (unhex(c) < 0 || (r = r * 16 + unhex(c)) > 0x10ffff) throw invalid();
        digits++;
      }
      if (digits === 0) throw invalid();
      return { ch: String.fromCodePoint(r), rest: t };
    }
    const x = unhex(c);
    c = firstRune(t);
    t = t.slice(c.length);
    if (x < 0 || unhex(c) < 0) throw invalid();
    return { ch: String.fromCharCode(x * 16 + unhex(c)), rest: t };
  }
  const simple: Record<string, string> = { a: "\x07", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v" };
  if (c in simple) return { ch: simple[c], rest: t };
  throw invalid();
}

function unhex(c: string): number {
  return /^[0-9A-Fa-f]$/.test(c) ? parseInt(c, 16) : -1;
}

/** Go's `parseUnicodeClass` (`\pL`, `\p{Greek}`, `\P{^Lu}`) as a V8 property escape. */
export function unicodeClass(s: string): { js: string; rest: string } | undefined {
  if (s.length < 2 || s[0] !== "\\" || (s[1] !== "p" && s[1] !== "P")) return undefined;
  let negated = s[1] === "P";
  let t = s.slice(2);
  const c = firstRune(t);
  let seq: string;
  let name: string;
  if (c !== "{") {
    t = t.slice(c.length);
    seq = s.slice(0, s.length - t.length);
    name = seq.slice(2);
  } else {
    const end = s.indexOf("}");
    if (end < 0) throw goError(ERR.charRange, s);
    [seq, t, name] = [s.slice(0, end + 1), s.slice(end + 1), s.slice(3, end)];
  }
  if (name.startsWith("^")) [negated, name] = [!negated, name.slice(1)];
  const property = v8Property(name);
  if (property === undefined) throw goError(ERR.charRange, seq);
  return { js: `\\${negated ? "P" : "p"}{${property}}`, rest: t };
}

/** Go's Unicode class name as V8 spells it: categories, `Any`, `ASCII`, scripts; undefined if unknown. */
function v8Property(name: string): string | undefined {
  // Go matches names loosely (case, `_`, `-` and spaces aside); V8 wants them exact.
  const loose = name.replace(/[-_ ]/g, "").toLowerCase();
  const capitalized = loose.charAt(0).toUpperCase() + loose.slice(1);
  const special: Record<string, string> = { any: "Any", assigned: "Assigned", ascii: "ASCII" };
  const candidates = loose in special ? [special[loose]] : [
    ...(/^[a-z]{1,2}$/.test(loose) ? [loose === "lc" ? "LC" : capitalized] : []),
    `Script=${name}`,
    `Script=${capitalized}`,
  ];
  return candidates.find((property) => {
    try {
      new RegExp(`\\p{${property}}`, "u");
      return true;
    } catch {
      return false;
    }
  });
}

const POSIX: Readonly<Record<string, readonly (readonly [number, number])[]>> = {
  alnum: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]],
  alpha: [[0x41, 0x5a], [0x61, 0x7a]],
  ascii: [[0x00, 0x7f]],
  blank: [[0x09, 0x09], [0x20, 0x20]],
  cntrl: [[0x00, 0x1f], [0x7f, 0x7f]],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  space: [[0x09, 0x0d], [0x20, 0x20]],
  upper: [[0x41, 0x5a]],
  word: [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]],
  xdigit: [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]],
};

/** `[:alpha:]` or `[:^alpha:]` as code point ranges; undefined for an unknown name. */
export function posixClass(text: string): (readonly [number, number])[] | undefined {
  const m = /^\[:(\^?)([a-z]+):\]$/.exec(text);
  const ranges = m ? POSIX[m[2]] : undefined;
  if (!m || !ranges) return undefined;
  if (m[1] === "") return [...ranges];
  const out: [number, number][] = [];
  let next = 0;
  for (const [lo, hi] of ranges) {
    if (next < lo) out.push([next, lo - 1]);
    next = hi + 1;
  }
  out.push([next, 0x10ffff]);
  return out;
}

/** One class range (or character) for V8. */
export function classRange(lo: number, hi: number): string {
  const one = (cp: number) => escapeIn(String.fromCodePoint(cp), "\\]-^[");
  return lo === hi ? one(lo) : `${one(lo)}-${one(hi)}`;
}

/** A literal character outside a class, for V8. */
export function escapeLiteral(ch: string): string {
  return escapeIn(ch, "\\^$.*+?()[]{}|/");
}

/** `ch` for V8's Unicode mode: syntax characters escaped, invisible ones as `\u{...}`. */
function escapeIn(ch: string, syntax: string): string {
  if (syntax.includes(ch)) return `\\${ch}`;
  const cp = ch.codePointAt(0)!;
  const invisible = cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp === 0x2028 || cp === 0x2029 ||
    (cp >= 0xd800 && cp <= 0xdfff);
  return invisible ? `\\u{${cp.toString(16)}}` : ch;
}
