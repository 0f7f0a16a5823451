/**
 * Whose ids this server's accounts carry (core ids.ts `IdOwner`): acct's own on the embedded
 * store, the upstream's in gateway mode. The surfaces read the ids a request names by it, so a
 * gateway can be asked about any record its upstream answered.
 */
import type { IdOwner } from "@acct/core"
import { Context } from "effect"

export class BackendIds extends Context.Tag("@acct/server/BackendIds")<BackendIds, IdOwner>() {}
