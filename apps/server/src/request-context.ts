/**
 * Per-request facts the access log needs from deeper layers (who the caller turned out to be).
 * Set by the request-log middleware for the whole request fiber; filled in by authentication.
 */
import { FiberRef } from "effect"

export interface RequestContext {
  readonly id: string
  principal: string | undefined
}

export const currentRequest = FiberRef.unsafeMake<RequestContext | undefined>(undefined)
