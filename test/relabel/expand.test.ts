/**
 * `$` expansion as Go's regexp.Expand does it. Expected values follow Go's documentation and its
 * regexp tests (TestExpand-like cases): `$1_x` names the group `1_x`, `${1}_x` is group 1 then `_x`.
 */
import { describe, expect, it } from 'vitest'
import { expand } from '../../src/relabel/expand.js'
import { GoRegexp } from '../../src/relabel/go-regexp.js'

const re = GoRegexp.compile('(?P<first>a+)(b)?(?P<third>c*)', 3)
const groups = re.exec('aac')!

describe('expand', () => {
  const cases: Array<[string, string]> = [
    ['$1', 'aa'],
    ['${1}', 'aa'],
    ['$1_x', ''], // the group named `1_x`: none
    ['${1}_x', 'aa_x'],
    ['$1x', ''], // `1x` is a name, not group 1
    ['$0', 'aac'],
    ['$$', '$'],
    ['$$1', '$1'],
    ['$first-$third', 'aa-c'],
    ['${first}s', 'aas'],
    ['$firsts', ''],
    ['$2', ''], // took no part
    ['$9', ''], // no such group
    ['$01', ''], // a leading zero makes it a name
    ['${', '${'], // malformed: kept as text
    ['${1', '${1'],
    ['$', '$'],
    ['a$-b', 'a$-b'],
    ['${}', '${}'],
    ['x${third}y', 'xcy'],
    ['$é', ''], // a Unicode letter is a name character
    ['$1é', ''],
    ['$1.x', 'aa.x'],
    ['no dollars', 'no dollars']
  ]
  for (const [template, want] of cases) {
    it(`${JSON.stringify(template)} -> ${JSON.stringify(want)}`, () => {
      expect(expand(template, groups, re.names)).toBe(want)
    })
  }
  it('numbers from 1e8 up are names', () => {
    expect(expand('$100000000', groups, re.names)).toBe('')
    expect(expand('$99999999x', groups, re.names)).toBe('')
  })
})
