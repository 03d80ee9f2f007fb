import { describe, expect, it } from 'vitest'
import { firstDuplicateKey } from '../../functions/api/http.js'

describe('firstDuplicateKey', () => {
  it.for([
    ['{"a":1,"a":2}', 'a'],
    ['{"a":1,"\\u0061":2}', 'a'],
    ['{"x":{"b":1,"b":2}}', 'b'],
    ['[{"a":1},{"c":[{"d":1,"d":2}]}]', 'd'],
    ['{"a":"x\\"y","a":1}', 'a'],
    ['{"a\\\\":1,"a\\\\":2}', 'a\\'],
  ] as const)('finds %s', ([text, key]) => {
    expect(firstDuplicateKey(text)).toBe(key)
  })

  it.for([
    '{"a":1,"b":{"a":2}}',
    '[{"a":1},{"a":2}]',
    '{"a":"a","b":"a"}',
    '{"a":["a","a"]}',
    '{"a":{"b":1},"b":2}',
    '{"a":"{\\"a\\":1,","b":1}',
    '"a"',
    '[]',
  ])('finds none in %s', (text) => {
    expect(firstDuplicateKey(text)).toBeUndefined()
  })

  it('scans 8,000 levels of nesting without growing the stack', () => {
    const deep = `${'{"a":'.repeat(8_000)}1${'}'.repeat(8_000)}`
    expect(firstDuplicateKey(deep)).toBeUndefined()
    const dup = `${'[{"a":'.repeat(8_000)}1,"a":2${'}]'.repeat(8_000)}`
    expect(firstDuplicateKey(dup)).toBe('a')
  })
})
