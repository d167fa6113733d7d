const SECRET_PARAMS =
  /([?&](?:password|authMechanismProperties|tlsCertificateKeyFilePassword|sslPEMKeyPassword)=)[^&]*/gi;

/**
 * Returns the connection string without credentials: `user:pass@` is removed and secret query
 * parameters are masked, so the result is safe to log. Works for multi-host and `+srv` URLs.
 */
export function redactMongoUrl(url: string): string {
  return url.replace(/^(mongodb(?:\+srv)?:\/\/)[^/?#]*@/i, '$1').replace(SECRET_PARAMS, '$1***');
}
