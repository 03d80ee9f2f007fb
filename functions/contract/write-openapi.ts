/** `npm run openapi`: writes the generated OpenAPI document to openapi.json at the repository root. */
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { openApiJson } from './openapi.js'

const target = fileURLToPath(new URL('../../openapi.json', import.meta.url))
writeFileSync(target, openApiJson())
console.log(`wrote ${target}`)
