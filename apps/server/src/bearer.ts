import { sha256 } from "@acct/store-sql"

/**
 * The API key in `Authorization: Bearer <key>` (RFC 6750): the scheme in any case, one or more
 * spaces, then a token68 and nothing else. Anything else carries no key — `Digest <key>` or
 * seven arbitrary characters before the key (the platform's own bearer security just drops the
 * first seven characters, whatever they are).
 */
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i

export const bearerToken = (authorization: string | undefined): string | undefined =>
  authorization === undefined ? undefined : BEARER.exec(authorization)?.[1]

/** A presented bearer token and its SHA-256 (how KnownKeys and the key store know a key). */
export interface Credential {
  readonly token: string
  readonly hash: string
}

/** The request's credential, if its Authorization header carries one. */
export const credentialIn = (authorization: string | undefined): Credential | undefined => {
  const token = bearerToken(authorization)
  return token === undefined ? undefined : { token, hash: sha256(token) }
}
