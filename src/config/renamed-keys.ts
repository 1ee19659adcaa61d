// Config keys that older versions of tenantfence accepted, with what replaced them: an old config
// then fails on the key with the new name, not with a bare "unknown key".
export const RENAMED_KEYS: Readonly<Record<string, string>> = {
  // thresholds: the error rate became one threshold per phase (phases[n].thresholds.errorRate)
  errorRateWarning: 'renamed to "errorRate" (blocked requests as a share of users\' requests; per phase in phases[n].thresholds)',
}
