// The slice of Prisma's data model the check needs: each model's fields, each relation's own
// foreign key (`fields`), the keys it points at (`references`), its referential action, and the
// model's unique keys. Prisma 7's `_runtimeDataModel` keeps only names, kinds and relation names,
// so the rest is read from the schema text the client carries (`_engineConfig.inlineSchema`) or
// from schema.prisma (CLI, static scan). Nothing here is guessed from naming conventions.
// The same parse gives the row-level security generator and its database check their tables and
// columns (@@map, @map, @@schema, @db.*): one reader of schema.prisma, one answer. Those extra
// names keep Prisma's own data model spelling (dbName, schema, nativeType), so a data model from a
// client that carries them reads the same.

export interface DataModelField {
  name: string
  kind: 'scalar' | 'object' | 'enum' | string
  type: string
  relationName?: string
  /** this model's foreign key fields of the relation (empty on the side that does not hold it) */
  relationFromFields?: readonly string[]
  /** the target's fields the foreign key points at */
  relationToFields?: readonly string[]
  /** onDelete of the relation, as written in the schema (undefined: Prisma's default) */
  relationOnDelete?: string
  isList?: boolean
  isRequired?: boolean
  /** the column (@map), when it differs from the field name */
  dbName?: string | null
  /** the native type (@db.Uuid, @db.VarChar(191)), as Prisma writes it: ['Uuid', []], ['VarChar', ['191']] */
  nativeType?: readonly [string, readonly string[]] | null
}

export interface DataModelUnique {
  /** the name of the compound unique input (`tenantId_email`, or the schema's `name:`) */
  name: string
  fields: readonly string[]
}

export interface DataModelModel {
  fields: readonly DataModelField[]
  /** @id / @@id fields, when known */
  primaryKey?: readonly string[]
  /** @unique / @@unique / @@id keys, when known (compound keys are inputs named after their fields) */
  uniques?: readonly DataModelUnique[]
  /** the table name (@@map), when it differs from the model name */
  dbName?: string | null
  /** the PostgreSQL schema of the table (@@schema), when the schema names one */
  schema?: string | null
}

export interface DataModel {
  models: Record<string, DataModelModel>
  /** the datasource's provider ("postgresql", "sqlite"…), when read from schema text */
  provider?: string
}

/** Does this data model carry unique keys in the shape the policy reads (`uniques`)? */
function hasUniques(dm: DataModel): boolean {
  return Object.values(dm.models).every((m) => Array.isArray(m.uniques))
}

/** Does this data model carry relation keys (from a schema parse, or a Prisma that keeps them)? */
function hasRelationKeys(dm: DataModel): boolean {
  for (const m of Object.values(dm.models)) {
    for (const f of m.fields) if (f.kind === 'object') return f.relationFromFields !== undefined
  }
  return true
}

interface ClientInternals {
  _runtimeDataModel?: DataModel
  _engineConfig?: { inlineSchema?: string }
}

/**
 * The data model of a Prisma client: its runtime data model, completed from the schema text it
 * carries. Returns undefined when the client exposes neither (the caller asks for `datamodel`).
 */
export function dataModelOfClient(client: unknown): DataModel | undefined {
  const c = client as ClientInternals
  const runtime = c._runtimeDataModel
  const schema = c._engineConfig?.inlineSchema
  // Prisma 6's `prisma-client-js` on the Rust engine carries the full DMMF: relation keys, but unique
  // keys as `uniqueFields`/`uniqueIndexes` and the primary key as an object. The schema text fills
  // in `uniques` and `primaryKey` in the shape the policy reads, whenever the client has it.
  if (runtime && hasRelationKeys(runtime) && hasUniques(runtime)) return runtime
  if (typeof schema === 'string' && schema.length > 0) {
    const parsed = parseSchema(schema)
    return runtime ? mergeDataModels(runtime, parsed) : parsed
  }
  return runtime
}

/** The runtime data model's names (authoritative), with relation keys and uniques from the schema parse. */
function mergeDataModels(runtime: DataModel, parsed: DataModel): DataModel {
  const models: DataModel['models'] = {}
  for (const [name, model] of Object.entries(runtime.models)) {
    const p = parsed.models[name]
    const byName = new Map((p?.fields ?? []).map((f) => [f.name, f]))
    models[name] = {
      ...model,
      primaryKey: p?.primaryKey,
      uniques: p?.uniques,
      dbName: model.dbName ?? p?.dbName,
      fields: model.fields.map((f) => {
        const pf = byName.get(f.name)
        if (!pf) return f
        return {
          ...f,
          relationName: f.relationName ?? pf.relationName,
          relationFromFields: f.relationFromFields ?? pf.relationFromFields,
          relationToFields: f.relationToFields ?? pf.relationToFields,
          relationOnDelete: f.relationOnDelete ?? pf.relationOnDelete,
          isList: f.isList ?? pf.isList,
          isRequired: f.isRequired ?? pf.isRequired,
        }
      }),
    }
  }
  return { models }
}

// ---- schema.prisma ----------------------------------------------------------------------------

interface Block {
  keyword: string
  name: string
  body: string
}

/** Top-level blocks (`model X { … }`), with comments removed and strings kept intact. */
function blocks(text: string): Block[] {
  const clean = stripComments(text)
  const out: Block[] = []
  const head = /\b(model|view|enum|type|datasource|generator)\s+(\w+)\s*\{/g
  let m: RegExpExecArray | null
  while ((m = head.exec(clean)) !== null) {
    const start = head.lastIndex
    const end = closingBrace(clean, start)
    out.push({ keyword: m[1]!, name: m[2]!, body: clean.slice(start, end) })
    head.lastIndex = end + 1
  }
  return out
}

/** Remove `//` comments (outside strings). */
function stripComments(text: string): string {
  let out = ''
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!
    if (inString) {
      out += ch
      if (ch === '\\') out += text[++i] ?? ''
      else if (ch === '"') inString = false
    } else if (ch === '"') {
      inString = true
      out += ch
    } else if (ch === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++
      out += '\n'
    } else {
      out += ch
    }
  }
  return out
}

function closingBrace(text: string, from: number): number {
  let depth = 1
  let inString = false
  for (let i = from; i < text.length; i++) {
    const ch = text[i]!
    if (inString) {
      if (ch === '\\') i++
      else if (ch === '"') inString = false
    } else if (ch === '"') inString = true
    else if (ch === '{') depth++
    else if (ch === '}' && --depth === 0) return i
  }
  return text.length
}

/** A block body as logical lines: newlines inside brackets or parentheses continue the line. */
function logicalLines(body: string): string[] {
  const lines: string[] = []
  let cur = ''
  let depth = 0
  let inString = false
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!
    if (inString) {
      if (ch === '\\') cur += ch + (body[++i] ?? '')
      else {
        if (ch === '"') inString = false
        cur += ch
      }
      continue
    }
    if (ch === '"') inString = true
    else if (ch === '(' || ch === '[') depth++
    else if (ch === ')' || ch === ']') depth--
    if (ch === '\n' && depth <= 0) {
      if (cur.trim()) lines.push(cur.trim())
      cur = ''
      depth = 0
    } else cur += ch
  }
  if (cur.trim()) lines.push(cur.trim())
  return lines
}

/** The line with the inside of its strings blanked, same length: `@default("@map(x)")` holds no attribute. */
function maskStrings(line: string): string {
  let out = ''
  let inString = false
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!
    if (!inString) {
      if (ch === '"') inString = true
      out += ch
    } else if (ch === '\\' && i + 1 < line.length) {
      out += '  '
      i++
    } else if (ch === '"') {
      inString = false
      out += ch
    } else out += ' '
  }
  return out
}

/** The argument text of `@name(...)` / `@@name(...)` / `@db.Name(...)` in a line, or undefined. */
function attributeArgs(line: string, attr: string): string | undefined {
  const re = new RegExp(`${attr.replace(/\./g, '\\.')}\\s*(\\()?`, 'g')
  const masked = maskStrings(line)
  let m: RegExpExecArray | null
  while ((m = re.exec(masked)) !== null) {
    // `@id` must not match `@idx`: the attribute name ends here
    const after = masked[m.index + attr.length]
    if (after !== undefined && /\w/.test(after)) continue
    if (!m[1]) return ''
    const start = re.lastIndex
    let depth = 1
    let inString = false
    for (let i = start; i < line.length; i++) {
      const ch = line[i]!
      if (inString) {
        if (ch === '\\') i++
        else if (ch === '"') inString = false
      } else if (ch === '"') inString = true
      else if (ch === '(' || ch === '[') depth++
      else if ((ch === ')' || ch === ']') && --depth === 0) return line.slice(start, i)
    }
    return line.slice(start)
  }
  return undefined
}

/** `fields: [a, b]` (or the first positional list) in attribute arguments. */
function listArg(args: string, key: string | undefined): string[] | undefined {
  const re = key ? new RegExp(`\\b${key}\\s*:\\s*\\[([^\\]]*)\\]`) : /^\s*\[([^\]]*)\]/
  const m = re.exec(args)
  if (!m) return undefined
  return m[1]!
    .split(',')
    .map((s) => s.trim().replace(/\(.*$/, '').trim()) // `email(sort: Desc)` -> email
    .filter(Boolean)
}

function stringArg(args: string, key: string | undefined): string | undefined {
  const re = key ? new RegExp(`\\b${key}\\s*:\\s*"((?:[^"\\\\]|\\\\.)*)"`) : /^\s*"((?:[^"\\]|\\.)*)"/
  return re.exec(args)?.[1]
}

function identArg(args: string, key: string): string | undefined {
  return new RegExp(`\\b${key}\\s*:\\s*(\\w+)`).exec(args)?.[1]
}

/** `@db.VarChar(191)` -> ['VarChar', ['191']], as Prisma's data model writes a native type. */
function nativeTypeOf(line: string): [string, string[]] | undefined {
  const name = /@db\.(\w+)/.exec(maskStrings(line))?.[1]
  if (name === undefined) return undefined
  const args = attributeArgs(line, `@db.${name}`) ?? ''
  return [name, args.split(',').map((a) => a.trim()).filter(Boolean)]
}

/** The datasource's `provider = "…"` (the first datasource of the text). */
function providerOf(all: readonly Block[]): string | undefined {
  const datasource = all.find((b) => b.keyword === 'datasource')
  if (!datasource) return undefined
  for (const line of logicalLines(datasource.body)) {
    const m = /^provider\s*=\s*"((?:[^"\\]|\\.)*)"/.exec(line)
    if (m) return m[1]
  }
  return undefined
}

/** Prisma's name for an unnamed relation: the two model names, sorted, joined by "To". */
function defaultRelationName(a: string, b: string): string {
  return [a, b].sort().join('To')
}

/**
 * Models of a schema.prisma (one file, or several files' texts joined): fields, relations with
 * their foreign keys, references and onDelete, primary and unique keys, @@map / @map names,
 * @@schema, @db native types, and the datasource's provider.
 */
export function parseSchema(text: string): DataModel {
  const all = blocks(text)
  const modelNames = new Set(all.filter((b) => b.keyword === 'model' || b.keyword === 'view').map((b) => b.name))
  const typeNames = new Set(all.filter((b) => b.keyword === 'type').map((b) => b.name))
  const enumNames = new Set(all.filter((b) => b.keyword === 'enum').map((b) => b.name))
  const models: DataModel['models'] = {}
  for (const block of all) {
    if (block.keyword !== 'model' && block.keyword !== 'view') continue
    const fields: DataModelField[] = []
    const uniques: DataModelUnique[] = []
    let primaryKey: string[] | undefined
    let dbName: string | null = null
    let schema: string | undefined
    for (const line of logicalLines(block.body)) {
      if (line.startsWith('@@')) {
        const id = attributeArgs(line, '@@id')
        const unique = attributeArgs(line, '@@unique')
        const map = attributeArgs(line, '@@map')
        const inSchema = attributeArgs(line, '@@schema')
        if (id !== undefined) {
          primaryKey = listArg(id, 'fields') ?? listArg(id, undefined)
          if (primaryKey) uniques.push({ name: stringArg(id, 'name') ?? primaryKey.join('_'), fields: primaryKey })
        } else if (unique !== undefined) {
          const f = listArg(unique, 'fields') ?? listArg(unique, undefined)
          if (f) uniques.push({ name: stringArg(unique, 'name') ?? f.join('_'), fields: f })
        } else if (map !== undefined) {
          dbName = stringArg(map, undefined) ?? stringArg(map, 'name') ?? null
        } else if (inSchema !== undefined) {
          schema = stringArg(inSchema, undefined)
        }
        continue
      }
      const f = /^(\w+)\s+(\w+)(\([^)]*\))?(\[\])?(\?)?/.exec(line)
      if (!f) continue
      const [, name, type, , list, optional] = f as unknown as [string, string, string, string | undefined, string | undefined, string | undefined]
      const isRelation = modelNames.has(type)
      const field: DataModelField = {
        name,
        kind: isRelation || typeNames.has(type) ? 'object' : enumNames.has(type) ? 'enum' : 'scalar',
        type,
        isList: list !== undefined,
        isRequired: list === undefined && optional === undefined,
      }
      if (isRelation) {
        const rel = attributeArgs(line, '@relation') ?? ''
        field.relationName = stringArg(rel, undefined) ?? stringArg(rel, 'name') ?? defaultRelationName(block.name, type)
        field.relationFromFields = listArg(rel, 'fields') ?? []
        field.relationToFields = listArg(rel, 'references') ?? []
        const onDelete = identArg(rel, 'onDelete')
        if (onDelete) field.relationOnDelete = onDelete
      }
      const column = attributeArgs(line, '@map')
      const mapped = column === undefined ? undefined : (stringArg(column, undefined) ?? stringArg(column, 'name'))
      if (mapped !== undefined) field.dbName = mapped
      const native = nativeTypeOf(line)
      if (native) field.nativeType = native
      if (attributeArgs(line, '@id') !== undefined) {
        primaryKey = [name]
        uniques.push({ name, fields: [name] })
      } else if (attributeArgs(line, '@unique') !== undefined) {
        uniques.push({ name, fields: [name] })
      }
      fields.push(field)
    }
    models[block.name] = { fields, primaryKey, uniques, dbName, ...(schema !== undefined ? { schema } : {}) }
  }
  const provider = providerOf(all)
  return provider === undefined ? { models } : { models, provider }
}
