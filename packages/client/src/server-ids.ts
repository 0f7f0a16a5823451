/** Its own module, so that choosing a backend (@acct/backend) need not load the whole client. */
import type { IdOwner } from "@acct/core"

/**
 * Whose ids an acct server's records carry (core ids.ts `IdOwner`): a server in gateway mode
 * answers with its upstream's own ids (Persona's `accac_ABC123`), and a server's own ids are
 * among those, so an id is told from a name (or a reference id) by its kind's prefix alone.
 */
export const ACCT_SERVER_IDS: IdOwner = "upstream"
