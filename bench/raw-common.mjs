// What the two raw baseline servers share: the account document and the response writer.
export const resource = (row) => ({
  type: "account",
  id: row.id,
  attributes: {
    "reference-id": row.reference_id,
    "account-type-name": row.type_name,
    "created-at": row.created_at,
    "updated-at": row.updated_at,
    "redacted-at": row.redacted_at,
    fields: JSON.parse(row.fields),
    tags: JSON.parse(row.tags),
    "account-status": row.status
  },
  relationships: { "account-type": { data: { type: "account-type", id: row.account_type_id } } }
})

export const send = (res, status, body) => {
  const text = JSON.stringify(body)
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) }).end(text)
}
