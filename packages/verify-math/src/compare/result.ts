/** The outcome of comparing two typed answers. `unknown` means no method could decide. */
export interface Comparison {
  equal: boolean | 'unknown';
  reason: string;
}

export const same = (reason: string): Comparison => ({ equal: true, reason });
export const differ = (reason: string): Comparison => ({ equal: false, reason });
export const unknown = (reason: string): Comparison => ({ equal: 'unknown', reason });
