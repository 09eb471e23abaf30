/**
 * Go (RE2) regular expressions as JS `RegExp`s, for upstream's `ignore`, `include_pattern` and
 * `exclude_pattern`.
 *
 * Operators copy these patterns from configs written for the Go agent, and search for Go's error
 * messages, so a pattern is parsed here with the rules of Go's `regexp/syntax` (its order of checks
 * and its `error parsing regexp: <code>: \`<expr>\`` errors) while it is rewritten for V8: Go's
 * literal `{`, `}` and `]`, `\Q...\E`, `(?P<name>`, `\A`, `\z`, octal and `\x{...}` escapes, POSIX
 * classes, `\pL` and `\p{Greek}`, flag groups anywhere (as V8's `(?i:...)` modifiers) and `(?U)`.
 * Constructs Go refuses (look-around, back-references, `\C`) are refused with Go's words.
 *
 * @module
 */
import {
  classRange,
  ERR,
  escape,
  escapeLiteral,
  firstRune,
  goError,
  posixClass,
  unicodeClass,
} from "./go_regexp_chars.ts";

/** Go's `maxRepeat`: the largest count in `x{n,m}`, and of nested counts multiplied. */
const MAX_REPEAT = 1000;

/**
 * Compiles a Go regexp as an unanchored JS `RegExp` (like Go's `MatchString`). Throws an `Error`
 * with Go's message, e.g. ``error parsing regexp: missing closing ): `(unclosed` ``.
 */
export function compileGoRegexp(source: string): RegExp {
  const { pattern, flags } = new Parser(source).parse();
  try {
    return new RegExp(pattern, flags);
  } catch (error) {
    // Go accepted it but V8 cannot express it (e.g. a group name starting with a digit).
    const reason = (error as Error).message.replace(/^.*: /, "");
    throw new Error(
      `error parsing regexp: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}: \`${source}\``,
    );
  }
}

/** The flags Go's parser tracks: `i` fold case, `m` multi-line, `s` dot matches `\n`, `U` ungreedy. */
interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  U: boolean;
}

type Item =
  | { t: "atom"; js: string; weight: number; assertion: boolean }
  | { t: "lparen"; js: string; flags: Flags }
  | { t: "bar" };

/** Go's parse loop over a stack of atoms, open groups and `|`, emitting V8 syntax per atom. */
class Parser {
  readonly #whole: string;
  #flags: Flags = { i: false, m: false, s: false, U: false };
  /** Flags set before anything else: they become the RegExp's own flags. */
  #global: Flags = { ...this.#flags };
  readonly #stack: Item[] = [];

  constructor(source: string) {
    this.#whole = source;
  }

  parse(): { pattern: string; flags: string } {
    let t = this.#whole;
    let lastRepeat = "";
    while (t !== "") {
      let repeat = "";
      const c = t[0];
      if (c === "(") {
        if (t.length >= 2 && t[1] === "?") t = this.#perlFlags(t);
        else {
          this.#stack.push({ t: "lparen", js: "(", flags: { ...this.#flags } });
          t = t.slice(1);
        }
      } else if (c === "|") {
        this.#stack.push({ t: "bar" });
        t = t.slice(1);
      } else if (c === ")") {
        this.#rightParen();
        t = t.slice(1);
      } else if (c === "^" || c === "$") {
        this.#atom(c, "m", true);
        t = t.slice(1);
      } else if (c === ".") {
        this.#atom(".", "s");
        t = t.slice(1);
      } else if (c === "[") {
        t = this.#class(t);
      } else if (c === "*" || c === "+" || c === "?") {
        [repeat, t] = [t, this.#repeat(c, 0, 0, t, t.slice(1), lastRepeat)];
      } else if (c === "{") {
        const counts = parseRepeat(t);
        if (!counts) {
          this.#literal("{");
          t = t.slice(1);
        } else {
          const { min, max, rest } = counts;
          if (min < 0 || min > MAX_REPEAT || max > MAX_REPEAT || (max >= 0 && min > max)) {
            throw goError(ERR.repeatSize, t.slice(0, t.length - rest.length));
          }
          const text = t.slice(0, t.length - rest.length);
          [repeat, t] = [t, this.#repeat(text, min, max, t, rest, lastRepeat)];
        }
      } else if (c === "\\") {
        t = this.#backslash(t);
      } else {
        const ch = firstRune(t);
        this.#literal(ch);
        t = t.slice(ch.length);
      }
      lastRepeat = repeat;
    }
    if (this.#stack.some((item) => item.t === "lparen")) {
      throw goError(ERR.missingParen, this.#whole);
    }
    const g = this.#global;
    return {
      pattern: join(this.#stack),
      flags: `u${g.i ? "i" : ""}${g.m ? "m" : ""}${g.s ? "s" : ""}`,
    };
  }

  /** An atom, wrapped in a `(?i:...)`-style modifier when the flags it depends on differ from the RegExp's. */
  #atom(js: string, dependsOn: string, assertion = false): void {
    const keys = [...dependsOn] as ("i" | "m" | "s")[];
    const on = keys.filter((k) => this.#flags[k] && !this.#global[k]).join("");
    const off = keys.filter((k) => !this.#flags[k] && this.#global[k]).join("");
    const wrapped = on === "" && off === "" ? js : `(?${on}${off && `-${off}`}:${js})`;
    this.#stack.push({ t: "atom", js: wrapped, weight: 1, assertion: assertion && wrapped === js });
  }

  #literal(ch: string): void {
    this.#atom(escapeLiteral(ch), "i");
  }

  /** Go's `repeat`: `op` is `*`, `+`, `?` or the `{...}` text; returns the rest after it. */
  #repeat(op: string, min: number, max: number, before: string, after: string, last: string) {
    let lazy = this.#flags.U;
    if (after[0] === "?") {
      after = after.slice(1);
      lazy = !lazy;
    }
    if (last !== "") throw goError(ERR.repeatOp, last.slice(0, last.length - after.length));
    const top = this.#stack.at(-1);
    const text = before.slice(0, before.length - after.length);
    if (top?.t !== "atom") throw goError(ERR.missingArgument, text);
    if (op[0] === "{") {
      const count = max === -1 ? min : max;
      const weight = count === 0 ? 1 : count * top.weight;
      if ((min >= 2 || max >= 2) && weight > MAX_REPEAT) throw goError(ERR.repeatSize, text);
      top.weight = weight;
    }
    // V8 refuses to repeat a bare assertion (`^*`), which Go accepts.
    top.js = `${top.assertion ? `(?:${top.js})` : top.js}${op}${lazy ? "?" : ""}`;
    top.assertion = false;
    return after;
  }

  #rightParen(): void {
    const open = this.#stack.findLastIndex((item) => item.t === "lparen");
    if (open < 0) throw goError(ERR.unexpectedParen, this.#whole);
    const lparen = this.#stack[open] as Extract<Item, { t: "lparen" }>;
    const inner = this.#stack.splice(open);
    inner.shift();
    const weight = Math.max(1, ...inner.map((item) => item.t === "atom" ? item.weight : 1));
    this.#flags = lparen.flags;
    this.#stack.push({ t: "atom", js: `${lparen.js}${join(inner)})`, weight, assertion: false });
  }

  /** Go's `parsePerlFlags`: a named group, a non-capturing group, or flags. */
  #perlFlags(s: string): string {
    let t = s;
    const startsWithP = t.length > 4 && t[2] === "P" && t[3] === "<";
    if (startsWithP || (t.length > 3 && t[2] === "<")) {
      const end = t.indexOf(">");
      if (end < 0) throw goError(ERR.namedCapture, s);
      const name = t.slice(startsWithP ? 4 : 3, end);
      if (!/^[A-Za-z0-9_]+$/.test(name)) throw goError(ERR.namedCapture, t.slice(0, end + 1));
      this.#stack.push({ t: "lparen", js: `(?<${name}>`, flags: { ...this.#flags } });
      return t.slice(end + 1);
    }
    t = t.slice(2);
    const flags = { ...this.#flags };
    let on = true;
    let sawFlag = false;
    while (t !== "") {
      const c = firstRune(t);
      t = t.slice(c.length);
      if (c === "i" || c === "m" || c === "s" || c === "U") {
        flags[c] = on;
        sawFlag = true;
      } else if (c === "-" && on) {
        on = false;
        sawFlag = false;
      } else if ((c === ":" || c === ")") && (on || sawFlag)) {
        if (c === ":") this.#stack.push({ t: "lparen", js: "(?:", flags: { ...this.#flags } });
        else if (this.#stack.length === 0) this.#global = { ...flags };
        this.#flags = flags;
        return t;
      } else break;
    }
    throw goError(ERR.perlOp, s.slice(0, s.length - t.length));
  }

  /** A backslash outside a class: assertions, `\Q...\E`, classes, or an escaped character. */
  #backslash(t: string): string {
    const assertions: Record<string, string> = {
      A: "(?<![\\s\\S])",
      b: "\\b",
      B: "\\B",
      z: "(?![\\s\\S])",
    };
    if (t.length >= 2 && t[1] in assertions) {
      this.#atom(assertions[t[1]], "", true);
      return t.slice(2);
    }
    if (t.startsWith("\\C")) throw goError(ERR.escape, "\\C");
    if (t.startsWith("\\Q")) {
      const rest = t.slice(2);
      const end = rest.indexOf("\\E");
      for (const ch of end < 0 ? rest : rest.slice(0, end)) this.#literal(ch);
      return end < 0 ? "" : rest.slice(end + 2);
    }
    const unicode = unicodeClass(t);
    if (unicode) {
      this.#atom(unicode.js, "i");
      return unicode.rest;
    }
    if (/^\\[dDsSwW]/.test(t)) {
      this.#atom(t.slice(0, 2), "i");
      return t.slice(2);
    }
    const { ch, rest } = escape(t);
    this.#literal(ch);
    return rest;
  }

  /** Go's `parseClass` from the `[`; returns the rest after the `]`. */
  #class(s: string): string {
    let t = s.slice(1);
    let out = "";
    const negated = t[0] === "^";
    if (negated) t = t.slice(1);
    let first = true;
    while (t === "" || t[0] !== "]" || first) {
      first = false;
      if (t.length > 2 && t[0] === "[" && t[1] === ":") {
        const end = t.indexOf(":]", 2);
        if (end >= 0) {
          const name = t.slice(0, end + 2);
          const ranges = posixClass(name);
          if (!ranges) throw goError(ERR.charRange, name);
          out += ranges.map(([lo, hi]) => classRange(lo, hi)).join("");
          t = t.slice(end + 2);
          continue;
        }
      }
      const unicode = unicodeClass(t);
      if (unicode) {
        out += unicode.js;
        t = unicode.rest;
        continue;
      }
      if (/^\\[dDsSwW]/.test(t)) {
        out += t.slice(0, 2);
        t = t.slice(2);
        continue;
      }
      const range = t;
      let lo: string;
      [lo, t] = classChar(t, s);
      let hi = lo;
      if (t.length >= 2 && t[0] === "-" && t[1] !== "]") {
        [hi, t] = classChar(t.slice(1), s);
        if (hi.codePointAt(0)! < lo.codePointAt(0)!) {
          throw goError(ERR.charRange, range.slice(0, range.length - t.length));
        }
      }
      out += classRange(lo.codePointAt(0)!, hi.codePointAt(0)!);
    }
    this.#atom(`[${negated ? "^" : ""}${out}]`, "i");
    return t.slice(1);
  }
}

function join(items: readonly Item[]): string {
  return items.map((item) => item.t === "bar" ? "|" : item.js).join("");
}

/** Go's `parseRepeat`: `{n}`, `{n,}` (max -1) or `{n,m}`; counts of 10^9 or more read as -1. */
function parseRepeat(s: string): { min: number; max: number; rest: string } | undefined {
  const m = /^\{(0|[1-9][0-9]*)(?:(,)(0|[1-9][0-9]*)?)?\}/.exec(s);
  if (!m) return undefined;
  const count = (digits: string) =>
    digits.length > 9 || Number(digits) >= 1e9 ? -1 : Number(digits);
  const min = count(m[1]);
  const max = m[2] === undefined ? min : m[3] === undefined ? -1 : count(m[3]);
  // Go reports a too-large max as a too-large min.
  return { min: m[3] !== undefined && max < 0 ? -1 : min, max, rest: s.slice(m[0].length) };
}

/** A class character (`\`-escape or rune); a missing one means the class was never closed. */
function classChar(t: string, wholeClass: string): [string, string] {
  if (t === "") throw goError(ERR.missingBracket, wholeClass);
  if (t[0] === "\\") {
    const { ch, rest } = escape(t);
    return [ch, rest];
  }
  const ch = firstRune(t);
  return [ch, t.slice(ch.length)];
}
