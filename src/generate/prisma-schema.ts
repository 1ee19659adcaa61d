// What the row-level security generator needs from a schema.prisma: each model's table (@@map,
// @@schema), each field's column (@map), type, native type (@db.Uuid) and, for relations, their
// own fields and references (@relation). Prisma's runtime data model has no table or column names
// and no relation fields, so the generator reads the schema text. A small reader, not a validator:
// the schema is one Prisma already accepted.

export interface SchemaRelation {
  name: string | undefined
  /** this model's foreign-key fields (empty on the side without the key) */
  fields: string[]
  /** the fields of the other model they point at */
  references: string[]
}

export interface SchemaField {
  name: string
  type: string
  kind: 'scalar' | 'enum' | 'object'
  list: boolean
  optional: boolean
  /** the column (@map), or the field name */
  column: string
  /** the @db.<Type> native type, if any (`Uuid`, `Text`, `BigInt`…) */
  nativeType: string | undefined
  relation: SchemaRelation | undefined
}

export interface SchemaModel {
  name: string
  /** the table (@@map), or the model name */
  table: string
  /** the PostgreSQL schema (@@schema), if any */
  schema: string | undefined
  fields: SchemaField[]
}

export interface PrismaSchema {
  provider: string | undefined
  models: Map<string, SchemaModel>
}

/** The text without comments, strings kept (a `//` inside a string is not a comment). */
function stripComments(text: string): string {
  let out = ''
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (inString) {
      out += c
      if (c === '\\') out += text[++i] ?? ''
      else if (c === '"') inString = false
    } else if (c === '"') {
      inString = true
      out += c
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++
      out += '\n'
    } else out += c
  }
  return out
}

/** Top-level blocks (`model X { … }`), braces inside strings ignored. */
function blocks(text: string): Array<{ keyword: string; name: string; body: string }> {
  const found: Array<{ keyword: string; name: string; body: string }> = []
  const head = /\b(model|view|enum|type|datasource|generator)\s+(\w+)\s*\{/g
  let m: RegExpExecArray | null
  while ((m = head.exec(text))) {
    let depth = 1
    let i = head.lastIndex
    let inString = false
    for (; i < text.length && depth > 0; i++) {
      const c = text[i]
      if (inString) {
        if (c === '\\') i++
        else if (c === '"') inString = false
      } else if (c === '"') inString = true
      else if (c === '{') depth++
      else if (c === '}') depth--
    }
    found.push({ keyword: m[1]!, name: m[2]!, body: text.slice(head.lastIndex, i - 1) })
    head.lastIndex = i
  }
  return found
}

/** `@name(args)` attributes of a line, with their raw argument text (parentheses and strings respected). */
function attributes(line: string): Array<{ name: string; args: string }> {
  const out: Array<{ name: string; args: string }> = []
  const at = /@@?([\w.]+)/g
  let m: RegExpExecArray | null
  while ((m = at.exec(line))) {
    let args = ''
    if (line[at.lastIndex] === '(') {
      let depth = 0
      let inString = false
      let i = at.lastIndex
      for (; i < line.length; i++) {
        const c = line[i]
        if (inString) {
          if (c === '\\') i++
          else if (c === '"') inString = false
        } else if (c === '"') inString = true
        else if (c === '(') depth++
        else if (c === ')' && --depth === 0) break
      }
      args = line.slice(at.lastIndex + 1, i)
      at.lastIndex = i + 1
    }
    out.push({ name: m[1]!, args })
  }
  return out
}

const firstString = (args: string) => /"((?:[^"\\]|\\.)*)"/.exec(args)?.[1]
const namedList = (args: string, key: string) => {
  const m = new RegExp(`\\b${key}\\s*:\\s*\\[([^\\]]*)\\]`).exec(args)
  return m ? m[1]!.split(',').map((s) => s.trim()).filter(Boolean) : []
}

export function parsePrismaSchema(text: string): PrismaSchema {
  const clean = stripComments(text)
  const all = blocks(clean)
  const modelNames = new Set(all.filter((b) => b.keyword === 'model' || b.keyword === 'view').map((b) => b.name))
  const enumNames = new Set(all.filter((b) => b.keyword === 'enum').map((b) => b.name))
  const datasource = all.find((b) => b.keyword === 'datasource')
  const provider = datasource ? /provider\s*=\s*"([^"]+)"/.exec(datasource.body)?.[1] : undefined
  const models = new Map<string, SchemaModel>()
  for (const block of all) {
    if (block.keyword !== 'model') continue
    const model: SchemaModel = { name: block.name, table: block.name, schema: undefined, fields: [] }
    for (const raw of block.body.split('\n')) {
      const line = raw.trim()
      if (!line) continue
      if (line.startsWith('@@')) {
        for (const a of attributes(line)) {
          if (a.name === 'map') model.table = firstString(a.args) ?? model.table
          if (a.name === 'schema') model.schema = firstString(a.args)
        }
        continue
      }
      const f = /^(\w+)\s+(\w+|Unsupported\("[^"]*"\))(\[\])?(\?)?/.exec(line)
      if (!f) continue
      const type = f[2]!
      const attrs = attributes(line.slice(f[0].length))
      const map = attrs.find((a) => a.name === 'map')
      const relation = attrs.find((a) => a.name === 'relation')
      const native = attrs.find((a) => a.name.startsWith('db.'))
      const kind = modelNames.has(type) ? 'object' : enumNames.has(type) ? 'enum' : 'scalar'
      model.fields.push({
        name: f[1]!,
        type,
        kind,
        list: f[3] === '[]',
        optional: f[4] === '?',
        column: (map && firstString(map.args)) ?? f[1]!,
        nativeType: native?.name.slice(3),
        relation:
          kind === 'object'
            ? {
                // the relation's name: its first positional string, or name: "…"
                name: /^\s*"/.test(relation?.args ?? '') ? firstString(relation!.args) : /\bname\s*:\s*"([^"]*)"/.exec(relation?.args ?? '')?.[1],
                fields: namedList(relation?.args ?? '', 'fields'),
                references: namedList(relation?.args ?? '', 'references'),
              }
            : undefined,
      })
    }
    models.set(model.name, model)
  }
  return { provider, models }
}
