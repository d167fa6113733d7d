/** Caps of open live-progress streams (per replica). */
export interface StreamCaps {
  maxStreams: number;
  maxPerSchool: number;
  maxPerCredential: number;
}

/** Who holds a stream: the school and the credential's audit identity. */
export interface StreamOwner {
  tenantId: string;
  actor: string;
}

/** Which cap refused a new stream. */
export type StreamRefusal = 'overall' | 'school' | 'credential';

/** An admitted stream: `release()` once it ends (idempotent). */
export interface StreamLease {
  release(): void;
}

/** Counts open streams and admits new ones within the caps; ends an actor's streams on demand. */
export interface StreamRegistry {
  open(owner: StreamOwner, end: (reason: 'revoked') => void): StreamLease | StreamRefusal;
  /** Ends every open stream of this actor (its credential was revoked here). */
  endActor(actor: string): number;
  readonly openCount: number;
}

/** Builds a {@link StreamRegistry}: pure bookkeeping, no timers and no I/O. */
export function createStreamRegistry(caps: StreamCaps): StreamRegistry {
  const open = new Set<{ owner: StreamOwner; end: (reason: 'revoked') => void }>();
  const count = (match: (o: StreamOwner) => boolean) => {
    let n = 0;
    for (const s of open) if (match(s.owner)) n++;
    return n;
  };
  return {
    open(owner, end) {
      if (open.size >= caps.maxStreams) return 'overall';
      if (count((o) => o.tenantId === owner.tenantId) >= caps.maxPerSchool) return 'school';
      if (count((o) => o.actor === owner.actor) >= caps.maxPerCredential) return 'credential';
      const entry = { owner, end };
      open.add(entry);
      return { release: () => void open.delete(entry) };
    },
    endActor(actor) {
      const ending = [...open].filter((s) => s.owner.actor === actor);
      for (const s of ending) {
        open.delete(s);
        s.end('revoked');
      }
      return ending.length;
    },
    get openCount() {
      return open.size;
    },
  };
}
