import { readFileSync } from 'node:fs'
import { scan } from './src/scan/scan.ts'
import { parseSchema } from './src/enforcement/datamodel.ts'
import config from './tenantfence.config.ts'
const r = await scan({ config, datamodel: parseSchema(readFileSync('prisma/schema.prisma', 'utf8')), paths: process.argv.slice(2) })
console.log(r.durationMs, r.sites.length, r.sites.filter(s=>s.verdict!=='scoped').length, process.cpuUsage())
