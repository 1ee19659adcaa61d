// The slice of Prisma's data model the inspector needs: each model's relation fields and
// their target models. At run time it comes from the client (`_runtimeDataModel`); the CLI
// audit reads it from schema.prisma with the small parser below.
export interface DataModelField {
  name: string
  kind: 'scalar' | 'object' | 'enum' | string
  type: string
}
export interface DataModel {
  models: Record<string, { fields: readonly DataModelField[] }>
}

/** Models and fields of a schema.prisma (models only; enough for the audit and tests). */
export function parseSchema(text: string): DataModel {
  const models: DataModel['models'] = {}
  const clean = text.replace(/\/\/.*$/gm, '')
  const modelNames = [...clean.matchAll(/^\s*model\s+(\w+)\s*\{/gm)].map((m) => m[1]!)
  const enumNames = new Set([...clean.matchAll(/^\s*enum\s+(\w+)\s*\{/gm)].map((m) => m[1]!))
  for (const match of clean.matchAll(/^\s*model\s+(\w+)\s*\{([^}]*)\}/gm)) {
    const fields: DataModelField[] = []
    for (const line of match[2]!.split('\n')) {
      const f = line.trim().match(/^(\w+)\s+(\w+)(\[\])?\??/)
      if (!f || line.trim().startsWith('@@')) continue
      const type = f[2]!
      const kind = modelNames.includes(type) ? 'object' : enumNames.has(type) ? 'enum' : 'scalar'
      fields.push({ name: f[1]!, kind, type })
    }
    models[match[1]!] = { fields }
  }
  return { models }
}
