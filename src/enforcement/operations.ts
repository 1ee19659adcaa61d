// Prisma 7's model operations, grouped by what the inspector checks for them.
export const READ_OPERATIONS: ReadonlySet<string> = new Set([
  'findUnique',
  'findUniqueOrThrow',
  'findFirst',
  'findFirstOrThrow',
  'findMany',
  'count',
  'aggregate',
  'groupBy',
])
export const CREATE_OPERATIONS: ReadonlySet<string> = new Set(['create', 'createMany', 'createManyAndReturn'])
export const UPDATE_OPERATIONS: ReadonlySet<string> = new Set(['update', 'updateMany', 'updateManyAndReturn'])
export const DELETE_OPERATIONS: ReadonlySet<string> = new Set(['delete', 'deleteMany'])
export const UPSERT_OPERATION = 'upsert'
/** Client operations that send SQL (or a database command) the check cannot see. */
export const RAW_OPERATIONS: ReadonlySet<string> = new Set(['$queryRaw', '$executeRaw', '$queryRawUnsafe', '$executeRawUnsafe', '$queryRawTyped', '$runCommandRaw'])
/** Model operations that take a raw database command (MongoDB). */
export const MODEL_RAW_OPERATIONS: ReadonlySet<string> = new Set(['findRaw', 'aggregateRaw'])

/** Every model operation the inspector knows. Anything else on a tenant-owned model is treated as unscoped. */
export const KNOWN_MODEL_OPERATIONS: ReadonlySet<string> = new Set([
  ...READ_OPERATIONS,
  ...CREATE_OPERATIONS,
  ...UPDATE_OPERATIONS,
  ...DELETE_OPERATIONS,
  UPSERT_OPERATION,
])
