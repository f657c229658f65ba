// The status page's script, a module (served as /ui/app.js; the CSP allows no other script).
//
// Everything shown comes from the JSON routes of the same origin. Label names and values, tenants
// and messages are data from senders: they are written only as text (createTextNode, textContent,
// setAttribute of plain attributes), never parsed as HTML. No listener is set from markup.
;(() => {
  const SVG = 'http://www.w3.org/2000/svg'
  const INGEST_EVERY_MS = 2000
  const EXPLORER_EVERY_MS = 10000

  const byId = (id) => document.getElementById(id)

  /** An element with attributes (plain strings) and children (nodes, or strings made text nodes). */
  function el (tag, attrs, children) {
    const e = document.createElement(tag)
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v))
    for (const c of children || []) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c)
    return e
  }

  function svg (tag, attrs) {
    const e = document.createElementNS(SVG, tag)
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v))
    return e
  }

  function clear (node) {
    while (node.firstChild) node.removeChild(node.firstChild)
  }

  function setError (text) {
    byId('error').textContent = text
  }

  async function getJson (path) {
    const res = await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } })
    if (!res.ok) throw new Error(path.split('?')[0] + ': ' + res.status + ' ' + (await res.text()).trim())
    const body = await res.json()
    return body
  }

  // Numbers: counts as plain integers (the explorer's figures), rates with SI prefixes.
  function si (x) {
    if (x === null || x === undefined || Number.isNaN(x)) return '–'
    const a = Math.abs(x)
    if (a >= 1e9) return (x / 1e9).toFixed(2) + 'G'
    if (a >= 1e6) return (x / 1e6).toFixed(2) + 'M'
    if (a >= 1e3) return (x / 1e3).toFixed(1) + 'k'
    return a >= 10 || a === 0 ? String(Math.round(x)) : x.toFixed(2)
  }

  function bytes (x) {
    if (a(x) >= 1073741824) return (x / 1073741824).toFixed(2) + ' GiB'
    if (a(x) >= 1048576) return (x / 1048576).toFixed(1) + ' MiB'
    if (a(x) >= 1024) return (x / 1024).toFixed(1) + ' KiB'
    return String(Math.round(x)) + ' B'
  }

  function a (x) { return Math.abs(x) }

  function seconds (x) {
    if (x === null || x === undefined) return '–'
    if (x < 1) return (x * 1000).toFixed(1) + ' ms'
    return x.toFixed(2) + ' s'
  }

  function time (ms) {
    return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')
  }

  // ---- Charts: polylines over the last 15 minutes, drawn in a 600 x 160 viewBox.

  const W = 600
  const H = 160
  const PAD_LEFT = 44
  const PAD_BOTTOM = 16

  /** `lines`: [{ name, values }], `times`: end of each interval (ms). */
  function drawChart (node, times, lines, windowMs, formatValue) {
    clear(node)
    const now = times.length > 0 ? times[times.length - 1] : Date.now()
    let max = 0
    for (const l of lines) for (const v of l.values) if (v > max) max = v
    const top = max > 0 ? niceCeil(max) : 1
    const x = (t) => PAD_LEFT + (W - PAD_LEFT - 4) * (1 - (now - t) / windowMs)
    const y = (v) => 4 + (H - PAD_BOTTOM - 4) * (1 - v / top)
    for (const f of [0, 0.5, 1]) {
      node.appendChild(svg('line', { class: 'grid-line', x1: PAD_LEFT, x2: W - 4, y1: y(top * f), y2: y(top * f) }))
      const label = svg('text', { class: 'axis', x: PAD_LEFT - 4, y: y(top * f) + 4, 'text-anchor': 'end' })
      label.textContent = formatValue(top * f)
      node.appendChild(label)
    }
    const left = svg('text', { class: 'axis', x: PAD_LEFT, y: H - 2 })
    left.textContent = Math.round(windowMs / 60000) + ' min ago'
    node.appendChild(left)
    const right = svg('text', { class: 'axis', x: W - 4, y: H - 2, 'text-anchor': 'end' })
    right.textContent = 'now'
    node.appendChild(right)
    lines.forEach((l, i) => {
      const pts = []
      for (let k = 0; k < l.values.length; k++) {
        if (now - times[k] > windowMs) continue
        pts.push(x(times[k]).toFixed(1) + ',' + y(l.values[k]).toFixed(1))
      }
      const line = svg('polyline', { class: 's' + (i % 6), points: pts.join(' ') })
      line.setAttribute('data-series', l.name)
      node.appendChild(line)
    })
  }

  function niceCeil (v) {
    const p = 10 ** Math.floor(Math.log10(v))
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p
    return 10 * p
  }

  function drawBars (node, points) {
    clear(node)
    const h = 160
    let max = 0
    for (const p of points) if (p.value > max) max = p.value
    const top = max > 0 ? niceCeil(max) : 1
    const w = (W - PAD_LEFT - 4) / Math.max(1, points.length)
    const label = svg('text', { class: 'axis', x: PAD_LEFT - 4, y: 12, 'text-anchor': 'end' })
    label.textContent = si(top)
    node.appendChild(label)
    points.forEach((p, i) => {
      const bh = (h - 20) * p.value / top
      const r = svg('rect', { class: 'bar', x: (PAD_LEFT + i * w).toFixed(1), y: (h - 16 - bh).toFixed(1), width: Math.max(1, w - 1).toFixed(1), height: bh.toFixed(1) })
      const title = svg('title', {})
      title.textContent = time(p.time) + ': ' + p.value
      r.appendChild(title)
      node.appendChild(r)
    })
    const left = svg('text', { class: 'axis', x: PAD_LEFT, y: h - 2 })
    left.textContent = '60 min ago'
    node.appendChild(left)
    const right = svg('text', { class: 'axis', x: W - 4, y: h - 2, 'text-anchor': 'end' })
    right.textContent = 'now'
    node.appendChild(right)
  }

  // ---- Ingest, pipeline, rejected requests.

  async function refreshIngest () {
    const { data } = await getJson('api/v1/status/ingest')
    const windowMs = 15 * 60 * 1000
    const last = (list) => list.length > 0 ? list[list.length - 1] : null
    drawChart(byId('chart-samples'), data.times, [{ name: 'samples', values: data.samplesPerSecond }], windowMs, si)
    drawChart(byId('chart-bytes'), data.times, [{ name: 'bytes', values: data.bytesPerSecond }], windowMs, (v) => bytes(v))
    const codes = Object.keys(data.requestsPerSecond)
    drawChart(byId('chart-requests'), data.times, codes.map((c) => ({ name: c, values: data.requestsPerSecond[c] })), windowMs, si)
    byId('now-samples').textContent = si(last(data.samplesPerSecond))
    byId('now-bytes').textContent = last(data.bytesPerSecond) === null ? '–' : bytes(last(data.bytesPerSecond)) + '/s'
    let total = 0
    for (const c of codes) total += last(data.requestsPerSecond[c]) || 0
    byId('now-requests').textContent = si(total)
    const legend = byId('legend-requests')
    clear(legend)
    codes.forEach((c, i) => { legend.appendChild(el('span', { class: 's' + (i % 6) }, [c])) })
  }

  function keyValues (title, rows) {
    const body = el('tbody', {}, rows.map(([k, v, cls]) => el('tr', {}, [el('th', {}, [k]), el('td', { class: 'num' + (cls ? ' ' + cls : '') }, [v])])))
    return el('table', {}, [el('caption', {}, [title]), body])
  }

  async function refreshPipeline () {
    const { data } = await getJson('api/v1/status/pipeline')
    const box = byId('pipeline-body')
    const parts = []
    parts.push(keyValues('decode pool', [
      ['threads', String(data.pool.threads)],
      ['utilisation (since start)', (data.pool.utilization * 100).toFixed(1) + ' %'],
      ['tasks queued', String(data.pool.queueSize)],
      ['tasks done', String(data.pool.completed)],
      ['workers replaced', String(data.pool.workerRestarts)]
    ]))
    parts.push(keyValues('slots and admission', [
      ['slots in use', data.slots.inUse + ' of ' + data.slots.total],
      ['waiting for a slot', String(data.slots.waiting)],
      ['requests admitted', data.admission.admitted + ' of ' + data.admission.capacity],
      ['waiting for admission', String(data.admission.waiting)]
    ]))
    parts.push(keyValues('series index', [
      ['series', data.series.known + ' of ' + data.series.maxSeries],
      ['key arena', bytes(data.series.arenaBytesUsed) + ' of ' + bytes(data.series.arenaBytes)]
    ]))
    const sinkRows = data.sinks.map((s) => el('tr', {}, [
      el('th', {}, [s.name]),
      el('td', { class: 'num ' + (s.ready ? 'ready' : 'unready') }, [s.ready ? 'ready' : 'not ready'])
    ]))
    if (data.writes) {
      sinkRows.push(el('tr', {}, [el('th', {}, ['write latency (' + data.writes.sink + ')']), el('td', { class: 'num' }, [seconds(data.writes.latencySeconds)])]))
      sinkRows.push(el('tr', {}, [el('th', {}, ['writes']), el('td', { class: 'num' }, [String(data.writes.count)])]))
    }
    if (data.commit) {
      sinkRows.push(el('tr', {}, [el('th', {}, ['duckdb commit latency']), el('td', { class: 'num' }, [seconds(data.commit.latencySeconds)])]))
      sinkRows.push(el('tr', {}, [el('th', {}, ['duckdb commits']), el('td', { class: 'num' }, [String(data.commit.commits)])]))
    }
    parts.push(el('table', { id: 'sinks-table' }, [el('caption', {}, ['sinks (over the last minute)']), el('tbody', {}, sinkRows)]))
    if (data.forwardQueues.length > 0) {
      parts.push(el('table', { id: 'queues-table' }, [
        el('caption', {}, ['forward queues']),
        el('thead', {}, [el('tr', {}, ['destination', 'records', 'bytes', 'limit', 'oldest', 'state'].map((h) => el('th', {}, [h])))]),
        el('tbody', {}, data.forwardQueues.map((q) => el('tr', {}, [
          el('td', { class: 'text' }, [q.destination]),
          el('td', { class: 'num' }, [String(q.records)]),
          el('td', { class: 'num' }, [bytes(q.bytes)]),
          el('td', { class: 'num' }, [bytes(q.limitBytes)]),
          el('td', { class: 'num' }, [seconds(q.oldestAgeSeconds)]),
          el('td', { class: q.stuck ? 'unready' : 'ready' }, [q.stuck ? 'stuck' : 'sending'])
        ])))
      ]))
    }
    clear(box)
    for (const p of parts) box.appendChild(p)
  }

  async function refreshRejected () {
    const { data } = await getJson('api/v1/status/rejected')
    byId('rejected-total').textContent = '(' + data.total + ' since start; the last ' + data.capacity + ' kept)'
    const body = byId('rejected-table').tBodies[0]
    clear(body)
    for (const r of data.requests) {
      body.appendChild(el('tr', {}, [
        el('td', {}, [time(r.time)]),
        el('td', { class: 'text' }, [r.tenant]),
        el('td', { class: 'num' }, [String(r.status)]),
        el('td', {}, [r.code]),
        el('td', { class: 'text' }, [r.message])
      ]))
    }
  }

  // ---- Cardinality explorer.

  const state = { tenant: null, match: '', focusLabel: '', date: '', topN: 10 }
  const tenants = []

  function quoteName (name) {
    return /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name) ? name : JSON.stringify(name)
  }

  function selectorOf (name, value) {
    return '{' + quoteName(name) + '=' + JSON.stringify(value) + '}'
  }

  function tsdbUrl () {
    const p = new URLSearchParams()
    p.set('topN', String(state.topN))
    if (state.focusLabel !== '') p.set('focusLabel', state.focusLabel)
    if (state.match !== '') p.append('match[]', state.match)
    if (state.date !== '') p.set('date', state.date)
    if (state.tenant !== null) p.set('tenant', state.tenant)
    return 'api/v1/status/tsdb?' + p.toString()
  }

  function applyForm () {
    const t = byId('f-tenant').value
    state.tenant = t === '' ? null : tenants[Number(t)]
    state.match = byId('f-match').value.trim()
    state.focusLabel = byId('f-focus').value.trim()
    state.date = byId('f-date').value.trim()
    state.topN = Math.max(1, Math.min(1000, Number(byId('f-top').value) || 10))
  }

  function fillForm () {
    byId('f-match').value = state.match
    byId('f-focus').value = state.focusLabel
    byId('f-date').value = state.date
    byId('f-top').value = String(state.topN)
  }

  function drill (change) {
    Object.assign(state, change)
    fillForm()
    void refreshExplorer()
  }

  /** A table of { name, value } rows; `onPick(name)` makes the name a button that drills down. */
  function fillTable (id, rows, onPick, show) {
    const table = byId(id)
    const body = table.tBodies[0]
    clear(body)
    const max = rows.reduce((m, r) => Math.max(m, r.value), 0)
    for (const r of rows) {
      const label = show ? show(r.name) : r.name
      const nameCell = el('td', { class: 'text' }, [])
      if (onPick) {
        const b = el('button', { type: 'button', class: 'link', title: 'drill down' }, [label])
        b.addEventListener('click', () => onPick(r.name))
        nameCell.appendChild(b)
      } else {
        nameCell.appendChild(document.createTextNode(label))
      }
      const bar = el('div', { class: 'meter' }, [])
      bar.style.width = (max > 0 ? (100 * r.value / max) : 0).toFixed(1) + '%'
      nameCell.appendChild(bar)
      body.appendChild(el('tr', {}, [nameCell, el('td', { class: 'num' }, [String(r.value)])]))
    }
  }

  function showTenant (t) {
    return t === '' ? '(no tenant)' : t
  }

  async function refreshExplorer () {
    const answer = await getJson(tsdbUrl())
    const d = answer.data
    const stats = byId('head-stats')
    clear(stats)
    for (const [k, v] of [['series', d.headStats.numSeries], ['label pairs', d.headStats.numLabelPairs]]) {
      stats.appendChild(el('div', { id: 'stat-' + k.replace(' ', '-') }, [el('span', { class: 'muted' }, [k]), el('b', {}, [String(v)])]))
    }
    const filters = []
    if (state.tenant !== null) filters.push('tenant ' + showTenant(state.tenant))
    if (state.match !== '') filters.push('match[] ' + state.match)
    if (state.focusLabel !== '') filters.push('focus ' + state.focusLabel)
    if (state.date !== '') filters.push('date ' + state.date)
    byId('explorer-state').textContent = (filters.length > 0 ? 'filtered by ' + filters.join(', ') : 'all series') + '; computed ' + time(answer.computedAt)

    fillTable('t-metrics', d.seriesCountByMetricName, (name) => drill({ match: selectorOf('__name__', name), focusLabel: '' }))
    fillTable('t-label-values', d.labelValueCountByLabelName, (name) => drill({ focusLabel: name }))
    fillTable('t-pairs', d.seriesCountByLabelValuePair, (pair) => {
      const at = pair.indexOf('=')
      drill({ match: selectorOf(pair.slice(0, at), pair.slice(at + 1)) })
    })
    fillTable('t-label-series', d.seriesCountByLabelName, (name) => drill({ focusLabel: name }))
    fillTable('t-memory', d.memoryInBytesByLabelName, null)
    const focus = d.seriesCountByFocusLabelValue || []
    byId('t-focus-caption').textContent = state.focusLabel === '' ? 'values of the focus label (pick a label)' : 'values of ' + state.focusLabel
    fillTable('t-focus', focus, (value) => drill({ match: selectorOf(state.focusLabel, value) }))
    fillTable('t-tenants', d.seriesCountByTenant, (t) => { state.tenant = t; syncTenants(); drill({}) }, showTenant)
    tenantsFrom(d.seriesCountByTenant)
    drawBars(byId('chart-new-series'), d.newSeriesPerMinute)
    byId('new-series-total').textContent = String(d.newSeriesPerMinute.reduce((s, p) => s + p.value, 0))
  }

  function tenantsFrom (list) {
    const known = new Set(tenants)
    for (const t of list) if (!known.has(t.name)) tenants.push(t.name)
    syncTenants()
  }

  function syncTenants () {
    const select = byId('f-tenant')
    clear(select)
    select.appendChild(el('option', { value: '' }, ['(all tenants)']))
    if (state.tenant !== null && !tenants.includes(state.tenant)) tenants.push(state.tenant)
    tenants.forEach((t, i) => {
      const o = el('option', { value: String(i) }, [showTenant(t)])
      if (t === state.tenant) o.selected = true
      select.appendChild(o)
    })
  }

  // ---- Refresh loops: one request of each kind at a time.

  function loop (f, every) {
    const run = async () => {
      if (byId('live').checked || !run.once) {
        run.once = true
        try {
          await f()
          byId('updated').textContent = 'updated ' + time(Date.now())
          setError('')
        } catch (err) {
          setError(String(err?.message ?? err))
        }
      }
      setTimeout(run, every)
    }
    void run()
  }

  function start () {
    byId('explorer-form').addEventListener('submit', (ev) => {
      ev.preventDefault()
      applyForm()
      void refreshExplorer().catch((err) => setError(String(err.message)))
    })
    byId('f-reset').addEventListener('click', () => {
      Object.assign(state, { tenant: null, match: '', focusLabel: '', date: '', topN: 10 })
      fillForm()
      syncTenants()
      void refreshExplorer().catch((err) => setError(String(err.message)))
    })
    syncTenants()
    loop(refreshIngest, INGEST_EVERY_MS)
    loop(refreshPipeline, INGEST_EVERY_MS)
    loop(refreshRejected, INGEST_EVERY_MS)
    loop(refreshExplorer, EXPLORER_EVERY_MS)
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start)
  else start()
})()
