import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KvCache } from './kv-cache.js';

/** Slot s of (row, head) holds value 1000*row + 100*head + s in every lane. */
function step(rows: number[], heads: number, hd: number, slot: number): Float32Array {
  const a = new Float32Array(rows.length * heads * hd);
  rows.forEach((r, i) => {
    for (let h = 0; h < heads; h++) a.fill(1000 * r + 100 * h + slot, (i * heads + h) * hd, (i * heads + h + 1) * hd);
  });
  return a;
}

function check(c: KvCache, rows: number[], heads: number, hd: number): void {
  const f: Record<string, import('onnxruntime-node').Tensor> = {};
  c.feeds(f);
  const k = f.past_k_0?.data as Float32Array;
  assert.deepEqual(f.past_k_0?.dims, [rows.length, heads, 1, c.slots, hd]);
  rows.forEach((r, i) => {
    for (let h = 0; h < heads; h++) for (let s = 0; s < c.used; s++) assert.equal(k[((i * heads + h) * c.slots + s) * hd], 1000 * r + 100 * h + s, `row ${r} head ${h} slot ${s}`);
  });
}

test('the KV cache grows in place inside its reservation, reallocates only past it, and compacts rows', () => {
  const [R, H, hd] = [3, 2, 4];
  const c = new KvCache(1, R, H, hd, 4, 4, 40);
  for (let s = 0; s < 30; s++) {
    c.append([step([0, 1, 2], H, hd, s)], [step([0, 1, 2], H, hd, s)], 1);
    assert.ok(c.slots >= c.used && c.reservedSlots === 40);
    check(c, [0, 1, 2], H, hd);
  }
  assert.ok(c.slots < 40, 'capacity follows the tokens held, not the reservation');
  c.keepRows([0, 2]);
  check(c, [0, 2], H, hd);
  for (let s = 30; s < 50; s++) c.append([step([0, 2], H, hd, s)], [step([0, 2], H, hd, s)], 1);
  assert.ok(c.reservedSlots >= 50);
  check(c, [0, 2], H, hd);
});

test('rows join the KV cache (written at any slot, more rows than first allocated) and leading slots are dropped', () => {
  const [H, hd] = [2, 3];
  const c = new KvCache(1, 1, H, hd, 4, 4, 8);
  for (let s = 0; s < 6; s++) c.append([step([0], H, hd, s)], [step([0], H, hd, s)], 1);
  c.advance(2); // a hole the masks hide
  c.addRows(2); // past the rows allocated: reallocates, row 0 kept
  const slots = [6, 7];
  for (const s of slots) c.write(1, 2, [step([1, 2], H, hd, s)], [step([1, 2], H, hd, s)], 1, s);
  const f: Record<string, import('onnxruntime-node').Tensor> = {};
  c.feeds(f);
  const k = f.past_k_0?.data as Float32Array;
  assert.deepEqual(f.past_k_0?.dims, [3, H, 1, c.slots, hd]);
  for (let s = 0; s < 6; s++) assert.equal(k[(0 * H * c.slots + s) * hd], s, `row 0 slot ${s}`);
  for (const r of [1, 2]) for (const s of slots) assert.equal(k[((r * H + 1) * c.slots + s) * hd], 1000 * r + 100 + s, `row ${r} slot ${s}`);
  c.shift(6);
  assert.equal(c.used, 2);
  c.feeds(f);
  const k2 = f.past_k_0?.data as Float32Array;
  for (const r of [1, 2]) assert.equal(k2[((r * H + 1) * c.slots + 1) * hd], 1000 * r + 100 + 7, `row ${r} after the shift`);
  assert.throws(() => c.write(0, 1, [step([0], H, hd, 0)], [step([0], H, hd, 0)], 1, c.slots), /outside/);
});
