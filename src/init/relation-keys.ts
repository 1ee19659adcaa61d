// Relation keys (`@relation(fields: [...], references: [...])`), list-ness and optionality of each
// relation field, read from the schema text. parseSchema (enforcement/datamodel.ts) is gaining
// these same properties for the isolation core; until a DataModel carries them, init fills them
// in here. Once parseSchema sets them this only re-confirms what is there.
import type { DataModel, DataModelField } from '../enforcement/datamodel.ts'

/** A relation field as init reads it: its foreign key on this side (empty on the other side). */
export interface RelationField extends DataModelField {
  relationFromFields: readonly string[]
  relationToFields: readonly string[]
  isList: boolean
  isRequired: boolean
}

export interface KeyedModel {
  fields: readonly (DataModelField & Partial<RelationField>)[]
}

/** The model's relation fields with their keys, from the DataModel when it has them, else from the text. */
export function relationFields(datamodel: DataModel, schemaText: string, model: string): RelationField[] {
  const parsed = parseRelationLines(schemaText).get(model)
  const out: RelationField[] = []
  for (const f of (datamodel.models[model] as KeyedModel | undefined)?.fields ?? []) {
    if (f.kind !== 'object') continue
    const fromText = parsed?.get(f.name)
    out.push({
      ...f,
      relationFromFields: f.relationFromFields ?? fromText?.from ?? [],
      relationToFields: f.relationToFields ?? fromText?.to ?? [],
      isList: f.isList ?? fromText?.isList ?? false,
      isRequired: f.isRequired ?? fromText?.isRequired ?? false,
    })
  }
  return out
}

interface LineKeys {
  from: string[]
  to: string[]
  isList: boolean
  isRequired: boolean
}

function parseRelationLines(text: string): Map<string, Map<string, LineKeys>> {
  const models = new Map<string, Map<string, LineKeys>>()
  const clean = text.replace(/\/\/.*$/gm, '')
  for (const m of clean.matchAll(/^\s*model\s+(\w+)\s*\{([^}]*)\}/gm)) {
    const fields = new Map<string, LineKeys>()
    for (const line of m[2]!.split('\n')) {
      const f = /^\s*(\w+)\s+(\w+)(\[\])?(\?)?(.*)$/.exec(line)
      if (!f) continue
      const args = /@relation\(([^)]*)\)/.exec(f[5]!)?.[1] ?? ''
      const keys = (name: string) => new RegExp(`\\b${name}\\s*:\\s*\\[([^\\]]*)\\]`).exec(args)?.[1]?.split(',').map((s) => s.trim()).filter(Boolean) ?? []
      fields.set(f[1]!, { from: keys('fields'), to: keys('references'), isList: f[3] === '[]', isRequired: f[3] !== '[]' && f[4] !== '?' })
    }
    models.set(m[1]!, fields)
  }
  return models
}
