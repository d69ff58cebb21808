/**
 * A recursive-descent parser for one arithmetic expression over a token slice: the precedence
 * levels (sums, products with implicit multiplication, unary signs, powers, factorials) and the
 * primaries; the LaTeX notation forms are in notation.ts.
 */
import type { Expr } from './ast.js';
import { TokenCursor, type Grammar } from './cursor.js';
import { func, opPrimary } from './notation.js';
import { ParseFailure, type Token } from './tokens.js';
import { parseDecimal } from './rational.js';

export class ExprParser extends TokenCursor implements Grammar {

  static parseAll(toks: readonly Token[]): Expr {
    const p = new ExprParser(toks);
    const e = p.expr();
    if (p.i < toks.length) throw new ParseFailure(`unexpected ${p.peekText()}`);
    return e;
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

  term(): Expr {
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

  power(): Expr {
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

  group(): Expr {
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
          return func(this, t.v);
        case 'word':
          throw new ParseFailure(`word ${t.v}`);
        case 'op':
          return opPrimary(this, t.v);
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
}

function foldMul(factors: Expr[], last: Expr): Expr {
  if (factors.length === 0) return last;
  return { k: 'mul', args: [...factors, last] };
}
