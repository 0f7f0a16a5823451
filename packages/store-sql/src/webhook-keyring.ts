/**
 * The key that encrypts webhook signing secrets at rest (AES-256-GCM), so that a copy of the
 * database alone does not reveal them.
 *
 *   ACCT_WEBHOOK_KEY    32 bytes as base64 (or 64 hex digits); a comma-separated list while
 *                       rotating: the first encrypts, every one decrypts (`acct webhooks rekey`
 *                       then re-encrypts all secrets with the first, and the rest can go).
 *   unset, on SQLite    a key generated once into `<database>.webhook-key` (mode 0600) beside
 *                       the database file, so the embedded default just works. Back it up apart
 *                       from the database: without it the secrets cannot be read.
 *   unset, on Postgres  refused: replicas must share one key from the environment.
 *
 * A stored secret is `v1.<key id>.<iv>.<tag>.<ciphertext>` (base64url), the key id being the
 * first 8 hex digits of the key's SHA-256; the webhook id is the additional authenticated data,
 * so a secret copied onto another row does not decrypt.
 */
import { InvalidRequest } from "@acct/core"
import { Config, Context, Effect, Layer, Option, Redacted } from "effect"
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto"
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs"
import { isPostgresUrl } from "./database-url.js"

export interface WebhookKeyringService {
  readonly encrypt: (webhookId: string, secret: string) => Effect.Effect<string, InvalidRequest>
  readonly decrypt: (webhookId: string, stored: string) => Effect.Effect<string, InvalidRequest>
  /** Whether `stored` was encrypted with a key other than the current one. */
  readonly isStale: (stored: string) => boolean
}

export class WebhookKeyring extends Context.Tag("@acct/store-sql/WebhookKeyring")<WebhookKeyring, WebhookKeyringService>() {}

const keyId = (key: Buffer) => createHash("sha256").update(key).digest("hex").slice(0, 8)

/** A key as configured: 32 bytes in base64/base64url or hex; else a sentence saying what is wrong. */
export const parseWebhookKey = (text: string, from: string): Buffer | string => {
  const trimmed = text.trim()
  const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, "hex") : Buffer.from(trimmed, "base64")
  if (bytes.length !== 32) {
    return `${from}: expected a 32-byte key as base64 or 64 hex digits (make one with: openssl rand -base64 32), got ${bytes.length} bytes`
  }
  return bytes
}

/** Where the generated key of an SQLite database lives. */
export const webhookKeyFile = (database: string) => `${database}.webhook-key`

const fileKey = (database: string): Buffer | string => {
  const file = webhookKeyFile(database)
  if (!existsSync(file)) {
    // `wx`: two processes starting together cannot both write one; the loser reads the winner's.
    try {
      writeFileSync(file, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600, flag: "wx" })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") return `cannot write the webhook key file ${file}: ${(error as Error).message}`
    }
    chmodSync(file, 0o600)
  }
  return parseWebhookKey(readFileSync(file, "utf8"), file)
}

const b64 = (b: Buffer) => b.toString("base64url")

export const makeKeyring = (keys: ReadonlyArray<Buffer>): WebhookKeyringService => {
  const byId = new Map(keys.map((k) => [keyId(k), k]))
  const current = keys[0]!
  const currentId = keyId(current)
  return {
    encrypt: (webhookId, secret) =>
      Effect.sync(() => {
        const iv = randomBytes(12)
        const cipher = createCipheriv("aes-256-gcm", current, iv)
        cipher.setAAD(Buffer.from(webhookId))
        const ciphertext = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()])
        return ["v1", currentId, b64(iv), b64(cipher.getAuthTag()), b64(ciphertext)].join(".")
      }),
    decrypt: (webhookId, stored) =>
      Effect.try({
        try: () => {
          const [version, id, iv, tag, ciphertext] = stored.split(".")
          const key = byId.get(id ?? "")
          if (version !== "v1" || !key) throw new Error(`it was encrypted with key ${id}, which is not in ACCT_WEBHOOK_KEY`)
          const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv!, "base64url"))
          decipher.setAAD(Buffer.from(webhookId))
          decipher.setAuthTag(Buffer.from(tag!, "base64url"))
          return Buffer.concat([decipher.update(Buffer.from(ciphertext!, "base64url")), decipher.final()]).toString("utf8")
        },
        catch: (e) => new InvalidRequest({ message: `cannot decrypt the signing secret of webhook ${webhookId}: ${(e as Error).message === "Unsupported state or unable to authenticate data" ? "the key does not match" : (e as Error).message}` })
      }),
    isStale: (stored) => stored.split(".")[1] !== currentId
  }
}

/**
 * The keyring for `database`, from ACCT_WEBHOOK_KEY or the generated file. The file is made on
 * first use (a database that never has a webhook gets none); while no key can be had, every use
 * fails with a sentence saying what to set.
 */
export const WebhookKeyringLive = (database: string) =>
  Layer.effect(
    WebhookKeyring,
    Effect.gen(function* () {
      const configured = Option.map(yield* Config.option(Config.redacted("ACCT_WEBHOOK_KEY")), Redacted.value)
      let ready: WebhookKeyringService | undefined
      const resolve = (): WebhookKeyringService | string => {
        if (ready) return ready
        const parsed: ReadonlyArray<Buffer | string> = Option.isSome(configured) && configured.value.trim() !== ""
          ? configured.value.split(",").map((k, i) => parseWebhookKey(k, `ACCT_WEBHOOK_KEY entry ${i + 1}`))
          : isPostgresUrl(database)
            ? ["ACCT_WEBHOOK_KEY is not set: on Postgres every replica needs the same key to encrypt webhook secrets (make one with: openssl rand -base64 32)"]
            : database === ":memory:"
              ? [randomBytes(32)]
              : [fileKey(database)]
        const problem = parsed.find((k): k is string => typeof k === "string")
        if (problem !== undefined) return problem
        ready = makeKeyring(parsed as ReadonlyArray<Buffer>)
        return ready
      }
      const use = <A>(f: (keyring: WebhookKeyringService) => Effect.Effect<A, InvalidRequest>) =>
        Effect.suspend(() => {
          const keyring = resolve()
          return typeof keyring === "string" ? Effect.fail(new InvalidRequest({ message: keyring })) : f(keyring)
        })
      return {
        encrypt: (id, secret) => use((k) => k.encrypt(id, secret)),
        decrypt: (id, stored) => use((k) => k.decrypt(id, stored)),
        isStale: (stored) => {
          const keyring = resolve()
          return typeof keyring !== "string" && keyring.isStale(stored)
        }
      } satisfies WebhookKeyringService
    }).pipe(Effect.orDie)
  )
