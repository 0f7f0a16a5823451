/**
 * The API key in `Authorization: Bearer <key>` (RFC 6750): the scheme in any case, one or more
 * spaces, then a token68 and nothing else. Anything else carries no key — `Digest <key>` or
 * seven arbitrary characters before the key (the platform's own bearer security just drops the
 * first seven characters, whatever they are).
 */
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i

export const bearerToken = (authorization: string | undefined): string | undefined =>
  authorization === undefined ? undefined : BEARER.exec(authorization)?.[1]
