import postgres from 'postgres';

export type Sql = postgres.Sql<Record<string, never>>;

/** One pool per process; bigint columns come back as JS numbers (cents stay far below 2^53). */
export function createSql(url: string, opts: { max?: number } = {}): Sql {
  return postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {},
    connect_timeout: 10,
    types: {
      bigint: postgres.BigInt,
    },
    transform: { undefined: null },
  }) as unknown as Sql;
}
