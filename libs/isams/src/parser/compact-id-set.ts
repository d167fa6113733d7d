/**
 * A set of strings kept as 64-bit hashes (two independent 32-bit halves) in an open-addressing
 * table of typed arrays: 8 bytes per entry at a load of at most ½, instead of a JS string and a
 * `Set` slot each (about 60 bytes for a short id, and as much as the id for a long one).
 *
 * `add` answers whether an equal hash was already there. Two different strings with the same 64-bit
 * hash are taken as equal — for a million ids about one chance in 37 million per document. Callers
 * use the answer only to *report* a duplicate, never to drop or remove a record.
 */
export class CompactIdSet {
  private lo = new Uint32Array(0);
  private hi = new Uint32Array(0);
  private used = 0;

  get size(): number {
    return this.used;
  }

  /** Adds `value`; returns false when it (or a string with the same 64-bit hash) was already present. */
  add(value: string): boolean {
    let a = 0x811c9dc5; // FNV-1a
    let b = 0x9747b28c; // a murmur-style mix with another seed
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    a >>>= 0;
    b = (b ^ (b >>> 13)) >>> 0;
    // (0, 0) marks an empty slot.
    if (a === 0 && b === 0) b = 1;
    if ((this.used + 1) * 2 > this.lo.length) this.grow();
    return this.insert(a, b);
  }

  private insert(a: number, b: number): boolean {
    const mask = this.lo.length - 1;
    for (let slot = (a ^ Math.imul(b, 0x9e3779b1)) & mask; ; slot = (slot + 1) & mask) {
      const la = this.lo[slot]!;
      const lb = this.hi[slot]!;
      if (la === 0 && lb === 0) {
        this.lo[slot] = a;
        this.hi[slot] = b;
        this.used += 1;
        return true;
      }
      if (la === a && lb === b) return false;
    }
  }

  private grow(): void {
    const { lo, hi } = this;
    const capacity = Math.max(1024, lo.length * 2);
    this.lo = new Uint32Array(capacity);
    this.hi = new Uint32Array(capacity);
    this.used = 0;
    for (let i = 0; i < lo.length; i++) {
      if (lo[i] !== 0 || hi[i] !== 0) this.insert(lo[i]!, hi[i]!);
    }
  }
}
