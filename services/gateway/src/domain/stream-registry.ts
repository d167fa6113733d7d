/** Caps of open live-progress streams (per replica). */
export interface StreamCaps {
  maxStreams: number;
  maxPerSchool: number;
  maxPerCredential: number;
}

/** Who holds a stream: the school, the credential's audit identity and the credential. */
export interface StreamOwner {
  tenantId: string;
  /** The audit identity (`token:<id>`, `jwt:<sub>`): what a revocation ends ({@link StreamRegistry.endActor}). */
  actor: string;
  /**
   * The presented credential as `credentialKey` hashes it: what the per-credential cap counts (an
   * actor is not one credential: a JWT `sub` may be an admin of several schools).
   */
  credential: string;
}

/** Which cap refused a new stream, or `shutdown` once the registry is closed. */
export type StreamRefusal = 'overall' | 'school' | 'credential' | 'shutdown';

/** Why the registry ends a stream: its token was revoked, or the gateway is stopping. */
export type StreamEnd = 'revoked' | 'shutdown';

/** An admitted stream: `release()` once it ends (idempotent). */
export interface StreamLease {
  release(): void;
}

/** Counts open streams and admits new ones within the caps; ends an actor's streams on demand. */
export interface StreamRegistry {
  open(owner: StreamOwner, end: (reason: StreamEnd) => void): StreamLease | StreamRefusal;
  /** Ends every open stream of this actor (its admin token, `token:<id>` with a unique id, was revoked here). */
  endActor(actor: string): number;
  /** Ends every open stream (the gateway is stopping) and admits no more; how many it ended. */
  closeAll(): number;
  readonly openCount: number;
}

/** Builds a {@link StreamRegistry}: pure bookkeeping, no timers and no I/O. */
export function createStreamRegistry(caps: StreamCaps): StreamRegistry {
  const open = new Set<{ owner: StreamOwner; end: (reason: StreamEnd) => void }>();
  let closed = false;
  const endWhere = (match: (o: StreamOwner) => boolean, reason: StreamEnd) => {
    const ending = [...open].filter((s) => match(s.owner));
    for (const s of ending) {
      open.delete(s);
      s.end(reason);
    }
    return ending.length;
  };
  const count = (match: (o: StreamOwner) => boolean) => {
    let n = 0;
    for (const s of open) if (match(s.owner)) n++;
    return n;
  };
  return {
    open(owner, end) {
      if (closed) return 'shutdown';
      if (open.size >= caps.maxStreams) return 'overall';
      if (count((o) => o.tenantId === owner.tenantId) >= caps.maxPerSchool) return 'school';
      if (count((o) => o.credential === owner.credential) >= caps.maxPerCredential) return 'credential';
      const entry = { owner, end };
      open.add(entry);
      return { release: () => void open.delete(entry) };
    },
    endActor(actor) {
      return endWhere((o) => o.actor === actor, 'revoked');
    },
    closeAll() {
      closed = true;
      return endWhere(() => true, 'shutdown');
    },
    get openCount() {
      return open.size;
    },
  };
}
