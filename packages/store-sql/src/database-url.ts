/** Which store a `--db` / ACCT_DATABASE value names; a module of its own so choosing loads no driver. */
export const isPostgresUrl = (database: string) => /^postgres(ql)?:\/\//.test(database)
