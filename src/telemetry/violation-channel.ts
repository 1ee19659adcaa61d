// Every violation the extension reports is also published on a diagnostics channel, so a test
// runner (the test-time guard, src/scan/guard) can fail the test that caused it without the app
// changing how it builds its client. Publishing costs one property read when nobody listens.
import { channel } from 'node:diagnostics_channel'
import type { Severity } from '../config/schema.ts'
import type { ViolationKind } from './metric-names.ts'
import { cleanStack } from './stack.ts'

export const VIOLATION_CHANNEL = 'tenantfence:violation'

export interface ViolationEvent {
  readonly model: string
  /** the Prisma operation (findMany, $queryRaw, ...) */
  readonly operation: string
  readonly violation: ViolationKind
  readonly severity: Severity
  readonly decision: 'logged' | 'blocked'
  /** the app's frames of the query's call site, paths relative to the working directory ('' when unknown) */
  readonly stack: string
}

export const violationChannel = channel(VIOLATION_CHANNEL)

/** Publish one violation; never throws (telemetry never fails a query). */
export function publishViolation(e: Omit<ViolationEvent, 'stack'>, callSite: Error | undefined): void {
  try {
    const stack = cleanStack(callSite?.stack ?? new Error().stack)
    violationChannel.publish({ ...e, stack } satisfies ViolationEvent)
  } catch {
    // Building the event failed (a stack that does not parse): drop it. A subscriber's own error
    // is reported by Node as an uncaught exception on a later tick, never thrown into the query.
  }
}
