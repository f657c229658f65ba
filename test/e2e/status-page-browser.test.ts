/**
 * The status page in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core),
 * against the service run as a real process with basic auth, fed by a test sender:
 * - the page loads behind basic auth, with its Content-Security-Policy;
 * - the explorer shows the figures of what was sent, and drills down by metric, label and tenant;
 * - hostile label values (and a rejected request quoting them) show as text and run nothing: no
 *   dialog, no console error, no <img> or second <script> in the document;
 * - the ingest chart moves when more samples arrive;
 * - a screenshot is saved under test-artifacts/ (its path is printed).
 * Skipped, saying so, where /usr/bin/chromium is missing (.ci/run installs it).
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compressBody, encodeWriteRequest1 } from '../fixtures/encode.js'
import { postWrite } from '../helpers/remote-write.js'
import { PROJECT_ROOT, startServiceProcess, type ServiceProcess } from '../helpers/service-process.js'
import { asTimeSeries, figuresOf, HOSTILE_IMG, HOSTILE_SCRIPT, statusSeries, topList } from '../helpers/status-series.js'

// The callbacks given to waitForFunction run in the page; the tests' type check has no DOM library.
declare const document: {
  querySelector(selector: string): { textContent: string | null, getAttribute(name: string): string | null } | null
  querySelectorAll(selector: string): { length: number }
}

const CHROMIUM = '/usr/bin/chromium'
const hasChromium = existsSync(CHROMIUM)
if (!hasChromium) console.warn(`status-page-browser: ${CHROMIUM} is missing, the browser tests are skipped (apt-get install chromium)`)

const USER = 'admin'
const PASSWORD = 'pa55:word'
const AUTH = 'Basic ' + Buffer.from(`${USER}:${PASSWORD}`).toString('base64')
const sets = statusSeries()
const TEAM_A = sets.filter((_, i) => i % 4 === 0)
const NO_TENANT = sets.filter((_, i) => i % 4 !== 0)

describe.runIf(hasChromium)('the status page in Chromium', () => {
  let service: ServiceProcess
  let browser: Browser
  let page: Page
  const dialogs: string[] = []
  const consoleErrors: string[] = []
  const pageErrors: string[] = []

  const send = async (timeseries: ReturnType<typeof asTimeSeries>, tenant?: string): Promise<number> => {
    const headers: Record<string, string> = { authorization: AUTH }
    if (tenant !== undefined) headers['x-scope-orgid'] = tenant
    return (await postWrite(service.url, compressBody(encodeWriteRequest1({ timeseries })), { headers })).status
  }

  beforeAll(async () => {
    service = await startServiceProcess(['--sink', 'discard', '--threads', '1', '--auth-basic-user', USER, '--auth-basic-password', PASSWORD])
    const now = Date.now()
    expect(await send(asTimeSeries(TEAM_A, now), 'team-a')).toBe(204)
    expect(await send(asTimeSeries(NO_TENANT, now))).toBe(204)
    // A rejected request whose message quotes the hostile values (one label name twice).
    expect(await send([{ labels: [['__name__', 'bad_series'], ['a', HOSTILE_IMG], ['a', HOSTILE_SCRIPT]], samples: [{ value: 1, timestamp: now }] }], 'evil-tenant')).toBe(400)
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run']
    })
    const context = await browser.newContext({ httpCredentials: { username: USER, password: PASSWORD }, viewport: { width: 1400, height: 1800 } })
    page = await context.newPage()
    page.on('dialog', d => { dialogs.push(d.message()); void d.dismiss() })
    page.on('console', m => { if (m.type() === 'error') consoleErrors.push(m.text()) })
    page.on('pageerror', e => { pageErrors.push(e.message) })
  }, 90_000)

  afterAll(async () => {
    await browser?.close()
    await service?.stop()
  })

  it('loads behind basic auth with a CSP that forbids script from anywhere but the page', async () => {
    const res = await page.goto(service.url + '/')
    expect(res?.status()).toBe(200)
    const csp = res?.headers()['content-security-policy'] ?? ''
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("default-src 'none'")
    await page.waitForFunction(() => document.querySelectorAll('#t-metrics tbody tr').length > 0, undefined, { timeout: 30_000 })
  })

  it('shows the figures of what was sent', async () => {
    const want = figuresOf(sets)
    expect(await page.textContent('#stat-series b')).toBe(String(want.numSeries))
    expect(await page.textContent('#stat-label-pairs b')).toBe(String(want.numLabelPairs))
    const rows = (id: string): Promise<Array<{ name: string, value: number }>> => page.$$eval(`#${id} tbody tr`, trs => trs.map(tr => ({ name: tr.cells[0]!.textContent ?? '', value: Number(tr.cells[1]!.textContent) })))
    expect(await rows('t-metrics')).toEqual(topList(want.seriesCountByMetricName, 10))
    expect(await rows('t-label-values')).toEqual(topList(want.labelValueCountByLabelName, 10))
    expect(await rows('t-pairs')).toEqual(topList(want.seriesCountByLabelValuePair, 10))
    expect(await rows('t-memory')).toEqual(topList(want.memoryInBytesByLabelName, 10))
    expect(await rows('t-tenants')).toEqual([{ name: '(no tenant)', value: NO_TENANT.length }, { name: 'team-a', value: TEAM_A.length }])
    expect(Number(await page.textContent('#new-series-total'))).toBe(sets.length)
  })

  it('drills down by label, showing hostile values as text that runs nothing', async () => {
    await page.click('#t-label-values button:text-is("note")')
    await page.waitForFunction(() => document.querySelectorAll('#t-focus tbody tr').length === 2, undefined, { timeout: 30_000 })
    const focus = await page.$$eval('#t-focus tbody tr td:first-child', tds => tds.map(td => td.textContent))
    expect(focus.sort()).toEqual([HOSTILE_IMG, HOSTILE_SCRIPT].sort())
    // The rejected request's message and tenant, as text.
    await page.waitForFunction(() => (document.querySelector('#rejected-table tbody')?.textContent ?? '').includes('evil-tenant'), undefined, { timeout: 30_000 })
    const rejected = await page.textContent('#rejected-table tbody')
    expect(rejected).toContain(HOSTILE_IMG)
    expect(rejected).toContain('labels_duplicate')
    expect(await page.$$eval('img', imgs => imgs.length)).toBe(0)
    expect(await page.$$eval('script', s => s.map(e => e.getAttribute('src')))).toEqual(['ui/app.js'])
    expect(dialogs).toEqual([])
    expect(pageErrors).toEqual([])
    expect(consoleErrors).toEqual([])
  })

  it('drills down by metric and filters by tenant', async () => {
    await page.click('#t-metrics button:text-is("status_test_12")')
    await page.waitForFunction(() => document.querySelector('#stat-series b')?.textContent === '12', undefined, { timeout: 30_000 })
    expect(await page.inputValue('#f-match')).toBe('{__name__="status_test_12"}')
    await page.click('#f-reset')
    await page.waitForFunction(n => document.querySelector('#stat-series b')?.textContent === String(n), sets.length, { timeout: 30_000 })
    await page.selectOption('#f-tenant', { label: 'team-a' })
    await page.click('#explorer-form button[type=submit]')
    await page.waitForFunction(n => document.querySelector('#stat-series b')?.textContent === String(n), TEAM_A.length, { timeout: 30_000 })
    expect(await page.textContent('#explorer-state')).toContain('tenant team-a')
  })

  it('moves the ingest chart when more samples arrive, and saves a screenshot', async () => {
    // Points above the chart's zero line (y of a zero value: 144 in the 160-high viewBox).
    const nonZero = (): Promise<number> => page.$eval('#chart-samples polyline', l => (l.getAttribute('points') ?? '').split(' ').filter((p: string) => p !== '' && Number(p.split(',')[1]) < 143.9).length)
    await page.waitForFunction(() => (document.querySelector('#chart-samples polyline')?.getAttribute('points') ?? '') !== '', undefined, { timeout: 30_000 })
    const before = await nonZero()
    const reading = await page.getAttribute('#chart-samples polyline', 'points')
    expect(await send(asTimeSeries(NO_TENANT, Date.now() + 1000, 2))).toBe(204)
    await page.waitForFunction(n => (document.querySelector('#chart-samples polyline')?.getAttribute('points') ?? '').split(' ').filter((p: string) => p !== '' && Number(p.split(',')[1]) < 143.9).length > n, before, { timeout: 30_000 })
    expect(await page.getAttribute('#chart-samples polyline', 'points')).not.toBe(reading)
    expect(await page.$$eval('#chart-requests polyline', ls => ls.map(l => l.getAttribute('data-series')))).toEqual(['204', '400'])
    const dir = join(PROJECT_ROOT, 'test-artifacts')
    mkdirSync(dir, { recursive: true })
    const path = join(dir, 'status-page.png')
    await page.screenshot({ path, fullPage: true })
    console.log(`status page screenshot: ${path}`)
    expect(existsSync(path)).toBe(true)
    expect(dialogs).toEqual([])
    expect(pageErrors).toEqual([])
  })
})
