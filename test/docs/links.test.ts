/**
 * Every relative link in README.md, bench/README.md and docs/*.md leads somewhere: the file exists
 * in the repository, and an `#anchor` names a heading of the page it points to (as GitHub makes
 * heading anchors). Links to other sites are not followed (the tests run offline).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/** The markdown pages whose links are checked, relative to the repository root. */
function pages (): string[] {
  const docs = readdirSync(join(ROOT, 'docs')).filter(f => f.endsWith('.md')).map(f => `docs/${f}`)
  return ['README.md', 'bench/README.md', ...docs.sort()]
}

/** The text outside fenced code blocks and inline code spans, where a link is a link. */
function prose (markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, '').replace(/`[^`\n]*`/g, '')
}

/** Link targets of `[text](target)` and `[text]: target` (reference definitions). */
function linkTargets (markdown: string): string[] {
  const text = prose(markdown)
  const out: string[] = []
  for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push(m[1]!)
  for (const m of text.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)) out.push(m[1]!)
  return out
}

/** The anchors GitHub gives the headings of a page: lower case, punctuation dropped, spaces to '-'. */
function headingAnchors (markdown: string): Set<string> {
  const anchors = new Set<string>()
  const seen = new Map<string, number>()
  for (const m of prose(markdown).matchAll(/^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$/gm)) {
    const base = m[1]!.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').trim().replace(/\s/g, '-')
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    anchors.add(n === 0 ? base : `${base}-${n}`)
  }
  return anchors
}

/** Problems of one link from `page` (a path relative to the root); empty when it resolves. */
function problemsOf (page: string, target: string): string[] {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return [] // https:, mailto: and the like: another site
  const hash = target.indexOf('#')
  const path = decodeURIComponent(hash < 0 ? target : target.slice(0, hash))
  const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1))
  const file = path === '' ? join(ROOT, page) : path.startsWith('/') ? join(ROOT, path) : resolve(ROOT, dirname(page), path)
  const shown = `${page}: (${target})`
  if (relative(ROOT, file).startsWith('..')) return [`${shown} leads outside the repository`]
  if (!existsSync(file)) return [`${shown}: no such file ${relative(ROOT, file)}`]
  if (anchor === undefined || anchor === '') return []
  if (statSync(file).isDirectory() || !file.endsWith('.md')) return [`${shown}: an anchor on a file that is not a markdown page`]
  if (!headingAnchors(readFileSync(file, 'utf8')).has(anchor)) return [`${shown}: no heading #${anchor} in ${relative(ROOT, file)}`]
  return []
}

describe('markdown links', () => {
  it('in README.md, bench/README.md and docs/*.md all resolve', () => {
    const problems: string[] = []
    let checked = 0
    for (const page of pages()) {
      for (const target of linkTargets(readFileSync(join(ROOT, page), 'utf8'))) {
        checked++
        problems.push(...problemsOf(page, target))
      }
    }
    expect(problems).toEqual([])
    expect(checked, 'links found (none means the walk is broken)').toBeGreaterThan(0)
  })

  it('README.md points to every page of docs/', () => {
    const readme = new Set(linkTargets(readFileSync(join(ROOT, 'README.md'), 'utf8')).map(t => t.split('#')[0]))
    const missing = pages().filter(p => p.startsWith('docs/') && !readme.has(p))
    expect(missing, 'add these to "Where to read more" in README.md').toEqual([])
  })

  it('finds broken links and anchors, and ignores code and other sites', () => {
    const page = '[a](docs/errors.md) [b](docs/nope.md) [c](#how-it-works) [d](#nope) [e](https://example.com/x)\n' +
      '`[f](inline-code.md)`\n```\n[g](fenced.md)\n```\n[h]: ../outside.md\n'
    expect(linkTargets(page)).toEqual(['docs/errors.md', 'docs/nope.md', '#how-it-works', '#nope', 'https://example.com/x', '../outside.md'])
    expect(problemsOf('README.md', 'docs/errors.md')).toEqual([])
    expect(problemsOf('README.md', 'docs/nope.md')).toHaveLength(1)
    expect(problemsOf('README.md', '#how-it-works')).toEqual([])
    expect(problemsOf('README.md', '#nope')).toHaveLength(1)
    expect(problemsOf('README.md', '../outside.md')).toEqual(['README.md: (../outside.md) leads outside the repository'])
    expect(problemsOf('docs/store.md', '../bench/README.md')).toEqual([])
    expect(headingAnchors('# How deploy/ is tested\n## Sinks\n## Sinks\n')).toEqual(new Set(['how-deploy-is-tested', 'sinks', 'sinks-1']))
  })
})
