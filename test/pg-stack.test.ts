// The compose stack runs the demo on PostgreSQL: a pinned postgres service with a healthcheck
// docker-compose 1.29 accepts, the demo pointed at it and waiting for it to be healthy.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { providerOf } from '../src/demo/db.ts'

interface Service {
  image?: string
  environment?: Record<string, string>
  ports?: string[]
  healthcheck?: { test: string[]; interval?: string; timeout?: string; retries?: number; start_period?: string }
  depends_on?: Record<string, { condition: string }> | string[]
}
const compose = parseYaml(readFileSync('docker-compose.yml', 'utf8')) as { services: Record<string, Service> }

describe('stack: the demo on PostgreSQL', () => {
  const postgres = compose.services.postgres!
  const demo = compose.services.demo!

  it('has a postgres service on a pinned image of the major the tests run on', () => {
    expect(postgres.image).toMatch(/^postgres:15\.\d+-bookworm$/)
    expect(postgres.ports).toBeUndefined() // only the demo reaches it, on the compose network
  })

  it('checks its health with pg_isready, with keys compose 1.29 knows', () => {
    expect(postgres.healthcheck!.test.slice(0, 2)).toEqual(['CMD', 'pg_isready'])
    expect(postgres.healthcheck!.test).toContain(postgres.environment!.POSTGRES_USER)
    expect(Object.keys(postgres.healthcheck!).sort()).toEqual(['interval', 'retries', 'start_period', 'test', 'timeout'])
  })

  it('points the demo at it and starts the demo once it is healthy', () => {
    const url = new URL(demo.environment!.DATABASE_URL!)
    expect(providerOf(demo.environment!.DATABASE_URL!)).toBe('postgresql')
    expect([url.hostname, url.port, url.username, url.password, url.pathname]).toEqual(['postgres', '5432', postgres.environment!.POSTGRES_USER, postgres.environment!.POSTGRES_PASSWORD, `/${postgres.environment!.POSTGRES_DB}`])
    expect((demo.depends_on as Record<string, { condition: string }>).postgres).toEqual({ condition: 'service_healthy' })
  })
})
