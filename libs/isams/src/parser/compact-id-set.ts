/**
 * A set of strings kept as 64-bit hashes (two independent 32-bit halves) in an open-addressing
 * table of one typed array: 8 bytes per entry at a load of at most ½, instead of a JS string and a
 * `Set` slot each (about 60 bytes for a short id, and as much as the id for a long one). A slot's
 * two halves sit side by side, so a probe touches one cache line.
 *
 * `add` answers whether an equal hash was already there. Two different strings with the same 64-bit
 * hash are taken as equal — for a million ids about one chance in 37 million per document. Callers
 * use the answer only to *report* a duplicate, never to drop or remove a record.
 */
export class CompactIdSet {
  /** Slot `i` holds a hash's halves at `2i` and `2i + 1`; (0, 0) marks an empty slot. */
  private table = new Uint32Array(0);
  private used = 0;

  get size(): number {
    return this.used;
  }

  /** Adds `value`; returns false when it (or a string with the same 64-bit hash) was already present. */
  add(value: string): boolean {
    return this.addParts(value);
  }

  /**
   * Adds the parts joined by `|` — the same entry as `add(parts.join('|'))`, without building that
   * string (a key of several fields is made for every record of some datasets).
   */
  addJoined(first: string, second: string, third?: string): boolean {
    return this.addParts(first, second, third);
  }

  /** One loop with its state in locals: this runs for every record, much of it before V8 optimizes it. */
  private addParts(first: string, second?: string, third?: string): boolean {
    // FNV-1a, and a murmur-style mix with another seed.
    let a = 0x811c9dc5;
    let b = 0x9747b28c;
    let value = first;
    for (let part = 1; ; part++) {
      for (let i = 0; i < value.length; i++) {
        const c = value.charCodeAt(i);
        a = Math.imul(a ^ c, 0x01000193);
        b = Math.imul(b ^ c, 0x5bd1e995);
        b ^= b >>> 15;
      }
      const next = part === 1 ? second : part === 2 ? third : undefined;
      if (next === undefined) break;
      a = Math.imul(a ^ SEPARATOR, 0x01000193);
      b = Math.imul(b ^ SEPARATOR, 0x5bd1e995);
      b ^= b >>> 15;
      value = next;
    }
    a >>>= 0;
    b = (b ^ (b >>> 13)) >>> 0;
    // (0, 0) marks an empty slot.
    if (a === 0 && b === 0) b = 1;
    if ((this.used + 1) * 4 > this.table.length) this.grow();
    if (!place(this.table, a, b)) return false;
    this.used += 1;
    return true;
  }

  private grow(): void {
    const old = this.table;
    const table = new Uint32Array(Math.max(2 * 1024, old.length * 2));
    for (let i = 0; i < old.length; i += 2) {
      if (old[i] !== 0 || old[i + 1] !== 0) place(table, old[i]!, old[i + 1]!);
    }
    this.table = table;
  }
}

/** Puts the hash (`a`, `b`) in its slot of `table`; false when it is there already. */
function place(table: Uint32Array, a: number, b: number): boolean {
  const mask = (table.length >>> 1) - 1;
  for (let slot = (a ^ Math.imul(b, 0x9e3779b1)) & mask; ; slot = (slot + 1) & mask) {
    const i = slot << 1;
    const la = table[i]!;
    const lb = table[i + 1]!;
    if (la === 0 && lb === 0) {
      table[i] = a;
      table[i + 1] = b;
      return true;
    }
    if (la === a && lb === b) return false;
  }
}

const SEPARATOR = 0x7c; // '|'
