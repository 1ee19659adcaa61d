// One demo API instance whose flags come from a flag service through OpenFeature: a member of the
// fleet in test/fleet.slow.test.ts. `node --import tsx test/helpers/fleet-openfeature-instance.ts`
// with PORT and FLAG_SERVICE_URL. The provider streams, as flagd's does: it holds one HTTP
// response open, each line a complete set of flags (JSON), and emits PROVIDER_CONFIGURATION_CHANGED
// on every line after the first. Test code, not a provider to ship.
import type { AddressInfo } from 'node:net'
import { OpenFeature, ProviderEvents, type JsonValue, type ResolutionDetails } from '@openfeature/server-sdk'
import { pino } from 'pino'
import { createDemo } from '../../src/demo/harness.ts'
import { metricsListener } from '../../src/http/metrics-listener.ts'
import { openFeatureFlags } from '../../src/openfeature/index.ts'
import { TestProvider } from './openfeature-provider.ts'

class StreamingProvider extends TestProvider {
  readonly metadata = { name: 'test-stream' }
  private values: Record<string, JsonValue> = {}
  private abort = new AbortController()
  constructor(private readonly url: string) {
    super()
  }

  async initialize(): Promise<void> {
    const res = await fetch(this.url, { signal: this.abort.signal })
    const reader = res.body!.getReader()
    let buffered = ''
    let first = true
    await new Promise<void>((ready, failed) => {
      const pump = (): void => {
        reader.read().then(({ done, value }) => {
          if (done) return
          buffered += Buffer.from(value).toString('utf8')
          let nl: number
          while ((nl = buffered.indexOf('\n')) >= 0) {
            this.values = JSON.parse(buffered.slice(0, nl)) as Record<string, JsonValue>
            buffered = buffered.slice(nl + 1)
            if (first) ready()
            else this.events.emit(ProviderEvents.ConfigurationChanged)
            first = false
          }
          pump()
        }, failed)
      }
      pump()
    })
  }
  async onClose(): Promise<void> {
    this.abort.abort()
  }
  protected resolve<T>(key: string, fallback: T): Promise<ResolutionDetails<T>> {
    return this.answer(this.values, key, fallback)
  }
}

const port = Number(process.env.PORT)
const service = process.env.FLAG_SERVICE_URL
if (!Number.isInteger(port) || !service) throw new Error('PORT and FLAG_SERVICE_URL are required')
await OpenFeature.setProviderAndWait(new StreamingProvider(service))
const source = await openFeatureFlags({ client: OpenFeature.getClient(), refreshMs: 0 }) // the change event alone
const demo = await createDemo({ logger: pino({ level: 'warn' }), flags: { source } })
const server = demo.app.listen(port, '127.0.0.1', () => console.log(`listening on ${(server.address() as AddressInfo).port}`))
// /metrics on a listener of its own, as the demo server does (METRICS_PORT)
const metrics = await metricsListener({ registry: demo.registry, port: Number(process.env.METRICS_PORT ?? 0), host: '127.0.0.1' })
process.once('SIGTERM', () => {
  server.closeAllConnections()
  server.close(() => void Promise.all([metrics.close(), demo.close(), OpenFeature.close()]).then(() => process.exit(0)))
})
