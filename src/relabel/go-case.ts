/**
 * Go's strings.ToLower and strings.ToUpper, which the lowercase and uppercase actions use. Go maps
 * each code point on its own with the simple (one to one) case mapping of UnicodeData.txt.
 * JavaScript's toLowerCase/toUpperCase use the full mapping of SpecialCasing.txt instead, which
 * differs in two ways:
 *   - some code points map to several: 'ß'.toUpperCase() is 'SS' (Go: 'ß'), 'İ'.toLowerCase() is
 *     'i̇' (i + U+0307; Go: 'i'), 'ﬀ'.toUpperCase() is 'FF' (Go: 'ﬀ'), 'ᾳ'.toUpperCase() is 'ΑΙ'
 *     (Go: 'ᾼ');
 *   - a capital sigma at the end of a word lowercases to 'ς' (Final_Sigma; Go: always 'σ').
 * Outside those code points the two agree, so the JavaScript functions run on the whole string and
 * only strings holding one of them are mapped code point by code point. test/relabel/go-case.test.ts
 * walks every code point to check that the lists below are complete for this Node's Unicode tables.
 */

/** Code points whose full uppercase mapping is more than one code point (SpecialCasing.txt). */
const SPECIAL_UPPER = /[\u00df\u0149\u01f0\u0390\u03b0\u0587\u1e96-\u1e9a\u1f50\u1f52\u1f54\u1f56\u1f80-\u1faf\u1fb2-\u1fb4\u1fb6\u1fb7\u1fbc\u1fc2-\u1fc4\u1fc6\u1fc7\u1fcc\u1fd2\u1fd3\u1fd6\u1fd7\u1fe2-\u1fe4\u1fe6\u1fe7\u1ff2-\u1ff4\u1ff6\u1ff7\u1ffc\ufb00-\ufb06\ufb13-\ufb17]/
/** 'İ' (the one code point whose full lowercase mapping is longer) and 'Σ' (Final_Sigma). */
const SPECIAL_LOWER = /[\u0130\u03a3]/

/**
 * The simple uppercase of the code points in SPECIAL_UPPER that have one (UnicodeData.txt field 12);
 * the others stay as they are. Greek with ypogegrammeni: ᾀ-ᾇ, ᾐ-ᾗ, ᾠ-ᾧ map to the titlecase forms
 * 8 above; ᾳ, ῃ, ῳ to ᾼ, ῌ, ῼ.
 */
function simpleUpper (cp: number): number {
  if ((cp >= 0x1f80 && cp <= 0x1f87) || (cp >= 0x1f90 && cp <= 0x1f97) || (cp >= 0x1fa0 && cp <= 0x1fa7)) return cp + 8
  if (cp === 0x1fb3) return 0x1fbc
  if (cp === 0x1fc3) return 0x1fcc
  if (cp === 0x1ff3) return 0x1ffc
  return cp
}

function mapEach (s: string, one: (ch: string, cp: number) => string): string {
  let out = ''
  for (const ch of s) out += one(ch, ch.codePointAt(0)!)
  return out
}

export function goToLower (s: string): string {
  if (!SPECIAL_LOWER.test(s)) return s.toLowerCase()
  return mapEach(s, (ch, cp) => cp === 0x130 ? 'i' : cp === 0x3a3 ? 'σ' : ch.toLowerCase())
}

export function goToUpper (s: string): string {
  if (!SPECIAL_UPPER.test(s)) return s.toUpperCase()
  return mapEach(s, (ch, cp) => {
    const up = ch.toUpperCase()
    // A code point that the full mapping turns into several: the simple mapping, or itself.
    return [...up].length === 1 ? up : String.fromCodePoint(simpleUpper(cp))
  })
}
