/** Who is calling: always one school, derived from the credential (never from the request). */
export interface Principal {
  /** The school the credential belongs to. */
  tenantId: string;
  /** Audit identity sent upstream as `x-actor`, e.g. `token:2f1c…` or `jwt:alice@school`. */
  actor: string;
  /**
   * How logs name the caller: the actor when it names nobody (`token:<id>`), a keyed pseudonym for a
   * JWT's subject, which is a person's name or e-mail address (`jwt:#<16 hex>`, the same for the same
   * admin on every replica, so their requests can still be followed).
   */
  loggedAs: string;
  /** How the caller authenticated. */
  method: 'admin_token' | 'jwt';
}

/** Identity of one gateway → upstream call: tenant, correlation id and actor. */
export interface CallContext {
  tenantId: string;
  requestId: string;
  actor: string;
  /** Aborts when the HTTP client goes away. */
  signal?: AbortSignal;
}
