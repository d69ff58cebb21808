/**
 * Partial selection over a probability vector, in the order "higher probability first, lower id
 * first among equals" (a strict total order, so results equal those of a full sort).
 *
 * `topPrefix` moves into idx[0, n) the shortest prefix of that order whose mass reaches `mass`
 * (`>=`, or `>` with `strict`), holding at most `count` ids, and returns n; idx[n - 1] is the last
 * (least likely) id of the prefix. Expected O(range) time (quickselect with mass bookkeeping),
 * instead of sorting the vocabulary.
 */
export function topPrefix(p: Float64Array, idx: Int32Array, lo: number, hi: number, mass: number, count: number, strict: boolean): number {
  const better = (a: number, b: number): boolean => (p[a] as number) > (p[b] as number) || ((p[a] as number) === (p[b] as number) && a < b);
  const reached = (m: number): boolean => (strict ? m > mass : m >= mass);
  let taken = 0;
  let got = 0;
  const start = lo;
  while (lo < hi) {
    if (hi - lo <= 32) {
      // Small range: insertion sort and take in order.
      for (let i = lo + 1; i < hi; i++) {
        const v = idx[i] as number;
        let j = i - 1;
        while (j >= lo && better(v, idx[j] as number)) {
          idx[j + 1] = idx[j] as number;
          j--;
        }
        idx[j + 1] = v;
      }
      for (let i = lo; i < hi; i++) {
        got += p[idx[i] as number] as number;
        taken++;
        if (reached(got) || taken >= count) return i - start + 1;
      }
      return hi - start;
    }
    // Median-of-three pivot; ids better than the pivot move to the front of the range.
    const a = idx[lo] as number;
    const b = idx[(lo + hi) >>> 1] as number;
    const c = idx[hi - 1] as number;
    const pivot = better(a, b) ? (better(b, c) ? b : better(a, c) ? c : a) : better(a, c) ? a : better(b, c) ? c : b;
    let m = lo;
    let leftMass = 0;
    for (let i = lo; i < hi; i++) {
      const v = idx[i] as number;
      if (better(v, pivot)) {
        idx[i] = idx[m] as number;
        idx[m] = v;
        leftMass += p[v] as number;
        m++;
      }
    }
    if (m === lo) {
      // The pivot is the best of the range: take it alone.
      const at = idx.indexOf(pivot, lo);
      idx[at] = idx[lo] as number;
      idx[lo] = pivot;
      got += p[pivot] as number;
      taken++;
      lo++;
      if (reached(got) || taken >= count) return lo - start;
    } else if (reached(got + leftMass) || taken + (m - lo) >= count) {
      hi = m; // the prefix ends inside the better part
    } else {
      got += leftMass;
      taken += m - lo;
      lo = m; // all of the better part is in the prefix
    }
  }
  return lo - start;
}
