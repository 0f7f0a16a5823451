/**
 * A run as an upstream's answer tells it, for the answers that carry no run record of their own
 * (an acct server that cannot give it, Persona's run-action without a readable workflow run,
 * SoftwareOne's transitions, which have none). One home, so all three say a run the same way.
 */
import { type Account, type AccountActionId, actingActors, ActionRun, type Invocation } from "@acct/core"

export interface ToldRun {
  /** The run's id as the upstream made it (or one made here when it gives none). */
  readonly id: string
  /** The account after the run, as answered: its status is the run's `statusAfter`. */
  readonly account: Account
  /** The configured action, or null for a lifecycle operation. */
  readonly actionId: AccountActionId | null
  readonly actionName: string
  readonly parameters: Readonly<Record<string, unknown>>
  readonly invocation: Invocation
  readonly idempotencyKey: string | null
  /** `succeeded` unless the upstream's record says otherwise (an answer to a failed run is an error). */
  readonly status?: ActionRun["status"] | undefined
  /** When asked, and when answered (or the upstream's own times where it gives them). */
  readonly startedAt: Date
  readonly finishedAt: Date
}

/**
 * The run: the actors as the caller acts (the upstream may record its key instead); no status
 * before and no events (an answer has neither, so the change reads "now <status>"). Its ids are
 * the upstream's, kept as they are (already decoded with the answer).
 */
export const toldRun = (told: ToldRun): ActionRun =>
  ActionRun.make(
    {
      id: told.id as ActionRun["id"],
      accountId: told.account.id,
      actionId: told.actionId,
      actionName: told.actionName,
      status: told.status ?? "succeeded",
      ...actingActors(told.invocation),
      parameters: told.parameters,
      statusBefore: "",
      statusAfter: told.account.status,
      events: [],
      error: null,
      idempotencyKey: told.idempotencyKey,
      startedAt: told.startedAt,
      finishedAt: told.finishedAt
    },
    true
  )
