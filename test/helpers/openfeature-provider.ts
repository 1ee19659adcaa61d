// The part every test OpenFeature provider shares: the four typed resolve* methods of a Provider,
// each answering from one `resolve(key, fallback)`, and the provider's event emitter.
import { OpenFeatureEventEmitter, type JsonValue, type Provider, type ResolutionDetails } from '@openfeature/server-sdk'

export abstract class TestProvider implements Provider {
  abstract readonly metadata: { readonly name: string }
  readonly runsOn = 'server' as const
  readonly events = new OpenFeatureEventEmitter()
  protected abstract resolve<T>(key: string, fallback: T): Promise<ResolutionDetails<T>>
  /** A flag the provider holds, or FLAG_NOT_FOUND with the fallback (what a real provider answers). */
  protected answer<T>(values: Record<string, JsonValue>, key: string, fallback: T): Promise<ResolutionDetails<T>> {
    if (!(key in values)) return Promise.resolve({ value: fallback, errorCode: 'FLAG_NOT_FOUND' as never, reason: 'ERROR' })
    return Promise.resolve({ value: values[key] as T, reason: 'STATIC' })
  }
  resolveBooleanEvaluation(key: string, fallback: boolean) {
    return this.resolve(key, fallback)
  }
  resolveStringEvaluation(key: string, fallback: string) {
    return this.resolve(key, fallback)
  }
  resolveNumberEvaluation(key: string, fallback: number) {
    return this.resolve(key, fallback)
  }
  resolveObjectEvaluation<T extends JsonValue>(key: string, fallback: T) {
    return this.resolve(key, fallback)
  }
}
