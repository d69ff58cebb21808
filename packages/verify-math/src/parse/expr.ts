import type { Expr } from './ast.js';
import { ParseFailure, type Token } from './tokens.js';
import { parseDecimal } from './rational.js';

/** Deeper nesting than this is refused (a guard against stack exhaustion, not a math limit). */
export const MAX_DEPTH = 120;

const CLOSERS = new Set([')', ']', '}', '\\}', '\\rangle', '\\rfloor', '\\rceil', '|']);

/** A recursive-descent parser for one arithmetic expression over a token slice. */
export class ExprParser {
  private i = 0;
  private depth = 0;
  constructor(private readonly toks: readonly Token[]) {}

  static parseAll(toks: readonly Token[]): Expr {
    const p = new ExprParser(toks);
    const e = p.expr();
    if (p.i < toks.length) throw new ParseFailure(`unexpected ${p.peekText()}`);
    return e;
  }

  private peek(): Token | undefined {
    return this.toks[this.i];
  }
  private peekText(): string {
    return this.peek()?.v ?? 'end';
  }
  private isOp(v: string): boolean {
    const t = this.peek();
    return t !== undefined && t.t === 'op' && t.v === v;
  }
  private expect(v: string): void {
    if (!this.isOp(v)) throw new ParseFailure(`expected ${v}, got ${this.peekText()}`);
    this.i++;
  }
  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw new ParseFailure('nesting too deep');
  }

  expr(): Expr {
    this.enter();
    const args: Expr[] = [this.term()];
    for (;;) {
      if (this.isOp('+')) {
        this.i++;
        args.push(this.term());
      } else if (this.isOp('-')) {
        this.i++;
        args.push({ k: 'neg', arg: this.term() });
      } else break;
    }
    this.depth--;
    return args.length === 1 && args[0] !== undefined ? args[0] : { k: 'add', args };
  }

  private term(): Expr {
    let acc = this.unary();
    const factors: Expr[] = [];
    for (;;) {
      const t = this.peek();
      if (t === undefined) break;
      if (t.t === 'op' && (t.v === '*' || t.v === '\\cdot' || t.v === '\\times')) {
        this.i++;
        factors.push(acc);
        acc = this.unary();
      } else if (t.t === 'op' && (t.v === '/' || t.v === '\\div')) {
        this.i++;
        acc = { k: 'div', num: foldMul(factors, acc), den: this.unary() };
        factors.length = 0;
      } else if (this.startsPrimary(t)) {
        factors.push(acc);
        acc = this.power();
      } else break;
    }
    return foldMul(factors, acc);
  }

  private startsPrimary(t: Token): boolean {
    if (t.t !== 'op') return t.t !== 'word';
    return ['(', '{', '\\frac', '\\sqrt', '\\binom', '\\pi', '\\infty', '\\lfloor', '\\lceil', '\\sum', '\\prod'].includes(t.v);
  }

  private unary(): Expr {
    if (this.isOp('-')) {
      this.i++;
      this.enter();
      const e: Expr = { k: 'neg', arg: this.unary() };
      this.depth--;
      return e;
    }
    if (this.isOp('+')) {
      this.i++;
      return this.unary();
    }
    return this.power();
  }

  private power(): Expr {
    const base = this.postfix();
    if (this.isOp('^')) {
      this.i++;
      this.enter();
      const exp = this.isOp('-') ? this.unary() : this.power();
      this.depth--;
      return this.factorials({ k: 'pow', base, exp });
    }
    return base;
  }

  private postfix(): Expr {
    return this.factorials(this.primary());
  }

  private factorials(e: Expr): Expr {
    while (this.isOp('!')) {
      this.i++;
      e = { k: 'fn', name: 'fact', args: [e] };
    }
    return e;
  }

  private group(): Expr {
    // A braced argument {..} or a single token argument.
    if (this.isOp('{')) {
      this.i++;
      const e = this.expr();
      this.expect('}');
      return e;
    }
    return this.postfix();
  }

  private primary(): Expr {
    const t = this.peek();
    if (t === undefined) throw new ParseFailure('unexpected end');
    this.i++;
    this.enter();
    try {
      switch (t.t) {
        case 'num': {
          const v = parseDecimal(t.v);
          if (v === null) throw new ParseFailure(`bad number ${t.v}`);
          const dot = t.v.indexOf('.');
          const places = dot < 0 || /e/i.test(t.v) ? null : t.v.length - dot - 1;
          return { k: 'num', v, places };
        }
        case 'id':
          return this.subscripted(t.v);
        case 'fn':
          return this.func(t.v);
        case 'word':
          throw new ParseFailure(`word ${t.v}`);
        case 'op':
          return this.opPrimary(t.v);
      }
    } finally {
      this.depth--;
    }
  }

  private subscripted(name: string): Expr {
    if (name === 'e' && !this.isOp('_')) return { k: 'const', name: 'e' };
    if (this.isOp('_')) {
      this.i++;
      const sub = this.peek();
      if (sub === undefined) throw new ParseFailure('empty subscript');
      if (sub.t === 'op' && sub.v === '{') {
        let j = this.i + 1;
        const parts: string[] = [];
        while (j < this.toks.length && !(this.toks[j]?.t === 'op' && this.toks[j]?.v === '}')) parts.push(this.toks[j++]?.v ?? '');
        this.i = j + 1;
        return { k: 'sym', name: `${name}_${parts.join('')}` };
      }
      this.i++;
      return { k: 'sym', name: `${name}_${sub.v}` };
    }
    return { k: 'sym', name };
  }

  /** `\\sum_{k=lo}^{hi} body` (the body is one term): `fn` named sum/prod over [index, lo, hi, body]. */
  private bigOperator(name: 'sum' | 'prod'): Expr {
    this.expect('_');
    this.expect('{');
    const idx = this.peek();
    if (idx?.t !== 'id') throw new ParseFailure(NOT_A_BOUND);
    this.i++;
    this.expect('=');
    const lo = this.expr();
    this.expect('}');
    this.expect('^');
    const hi = this.group();
    const body = this.term();
    return { k: 'fn', name, args: [{ k: 'sym', name: idx.v }, lo, hi, body] };
  }

  private func(name: string): Expr {
    if (name === 'sqrt') return this.opPrimary('\\sqrt');
    let power: Expr | null = null;
    let base: Expr | null = null;
    // \sin^2 x, \log_2 x
    for (let k = 0; k < 2; k++) {
      if (this.isOp('^')) {
        this.i++;
        power = this.group();
      } else if (this.isOp('_')) {
        this.i++;
        base = this.group();
      }
    }
    let args: Expr[];
    if (this.isOp('(')) {
      this.i++;
      args = [this.expr()];
      while (this.isOp(',')) {
        this.i++;
        args.push(this.expr());
      }
      if (this.isOp(')') || this.isOp(']')) this.i++;
      else throw new ParseFailure('unclosed function call');
    } else {
      args = [this.power()];
    }
    let e: Expr = base !== null && name === 'log' ? { k: 'fn', name: 'logb', args: [base, ...args] } : { k: 'fn', name, args };
    if (name === 'lg') e = { k: 'fn', name: 'log10', args };
    // \sin^{-1} x is arcsin x, not a reciprocal (the notation answers use).
    if (power !== null && isMinusOne(power) && INVERSE_TRIG[name] !== undefined) return { k: 'fn', name: INVERSE_TRIG[name], args };
    if (power !== null) e = { k: 'pow', base: e, exp: power };
    return e;
  }

  private opPrimary(v: string): Expr {
    switch (v) {
      case '(':
      case '[': {
        const e = this.expr();
        if (this.isOp(')') || this.isOp(']')) this.i++;
        else throw new ParseFailure('unbalanced parenthesis');
        return e;
      }
      case '{': {
        const e = this.expr();
        this.expect('}');
        return e;
      }
      case '|': {
        const e = this.expr();
        this.expect('|');
        return { k: 'fn', name: 'abs', args: [e] };
      }
      case '\\lfloor': {
        const e = this.expr();
        this.expect('\\rfloor');
        return { k: 'fn', name: 'floor', args: [e] };
      }
      case '\\lceil': {
        const e = this.expr();
        this.expect('\\rceil');
        return { k: 'fn', name: 'ceil', args: [e] };
      }
      case '\\frac': {
        const num = this.group();
        const den = this.group();
        return { k: 'div', num, den };
      }
      case '\\binom': {
        const n = this.group();
        const k = this.group();
        return { k: 'fn', name: 'binom', args: [n, k] };
      }
      case '\\sqrt': {
        if (this.isOp('[')) {
          this.i++;
          const n = this.expr();
          this.expect(']');
          const x = this.group();
          return { k: 'fn', name: 'root', args: [x, n] };
        }
        return { k: 'fn', name: 'sqrt', args: [this.group()] };
      }
      case '\\sum':
      case '\\prod':
        return this.bigOperator(v === '\\sum' ? 'sum' : 'prod');
      case '\\pi':
        return { k: 'const', name: 'pi' };
      case '\\infty':
        return { k: 'const', name: 'inf' };
      default:
        if (CLOSERS.has(v)) throw new ParseFailure(`unexpected ${v}`);
        throw new ParseFailure(`unexpected ${v} in an expression`);
    }
  }
}

const NOT_A_BOUND = 'a sum or product needs _{k=lo}^{hi}';

export interface BigOperatorParts {
  index: string;
  lo: Expr;
  hi: Expr;
  body: Expr;
}

const INVERSE_TRIG: Record<string, string> = { sin: 'arcsin', cos: 'arccos', tan: 'arctan', cot: 'arccot', sec: 'arcsec', csc: 'arccsc' };

function isMinusOne(e: Expr): boolean {
  return e.k === 'neg' && e.arg.k === 'num' && e.arg.v.n === 1n && e.arg.v.d === 1n;
}

function foldMul(factors: Expr[], last: Expr): Expr {
  if (factors.length === 0) return last;
  return { k: 'mul', args: [...factors, last] };
}
