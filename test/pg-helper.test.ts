// The test PostgreSQL helper: where it finds the server, and that a missing server is a failure
// naming the package to install (never a skip), on CI as anywhere.
import { describe, expect, it } from 'vitest'
import { postgresBinDir, requirePostgres } from './helpers/postgres.ts'

describe('finding PostgreSQL for the tests', () => {
  it('finds Debian\'s server binaries off PATH', () => {
    const bin = requirePostgres()
    expect(bin).toMatch(/initdb|bin$/)
  })

  it('a missing server fails with the apt install hint, and says when CI=true', () => {
    const none = { PATH: '/nonexistent' }
    expect(postgresBinDir(none, '/nonexistent')).toBeUndefined()
    expect(() => requirePostgres(none, '/nonexistent')).toThrow('PostgreSQL server not found: install it with `apt-get install -y postgresql`')
    expect(() => requirePostgres({ ...none, CI: 'true' }, '/nonexistent')).toThrow(/not found \(CI=true\): install it with `apt-get install -y postgresql`/)
  })
})
