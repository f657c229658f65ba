/**
 * deploy/Dockerfile, checked offline: no container engine runs here and no base image can be pulled,
 * so the image is not built. dockerfile-utils (the validator behind the VS Code Docker extension)
 * checks the syntax; the instructions are then read and the image's contract asserted: multi-stage,
 * production dependencies only, a numeric non-root user, the data directory as a volume, the port,
 * SIGTERM, and `serve` configured from the environment, consistent with the StatefulSet. Then the
 * stages are replayed on the file system as far as that is possible without an engine: the build
 * stage's COPY sources in an empty directory must compile, and the runtime stage's files alone (with
 * node_modules linked in) must run the service.
 */
import { spawn, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { validate } from 'dockerfile-utils'
import { request } from 'undici'
import { afterAll, describe, expect, it } from 'vitest'
import { DEPLOY, ROOT, baseFiles } from './deploy-files.js'

const DOCKERFILE = join(DEPLOY, 'Dockerfile')
const text = readFileSync(DOCKERFILE, 'utf8')

interface Instruction { keyword: string, args: string, line: number }

/** Instructions in order: comments dropped, `\` continuations joined (no parser directives are used). */
function instructions (source: string): Instruction[] {
  const out: Instruction[] = []
  const lines = source.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const start = i
    let line = lines[i]!.trim()
    if (line === '' || line.startsWith('#')) continue
    while (line.endsWith('\\') && i + 1 < lines.length) {
      line = line.slice(0, -1).trimEnd() + ' ' + lines[++i]!.trim()
    }
    const m = /^(\S+)\s*(.*)$/.exec(line)!
    out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!, line: start + 1 })
  }
  return out
}

/** Stages: the instructions from one FROM to the next, with the stage's name. */
function stages (all: readonly Instruction[]): Array<{ from: string, name: string, body: Instruction[] }> {
  const out: Array<{ from: string, name: string, body: Instruction[] }> = []
  for (const ins of all) {
    if (ins.keyword === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args)!
      out.push({ from: m[1]!, name: m[2] ?? String(out.length), body: [] })
    } else if (out.length > 0) {
      out[out.length - 1]!.body.push(ins)
    }
  }
  return out
}

const all = instructions(text)
const [build, runtime] = ((): [ReturnType<typeof stages>[number], ReturnType<typeof stages>[number]] => {
  const s = stages(all)
  return [s[0]!, s[s.length - 1]!]
})()

function args (body: readonly Instruction[], keyword: string): string[] {
  return body.filter(i => i.keyword === keyword).map(i => i.args)
}

/** ENV lines of a stage as a map (the `KEY=value` form, several per line). */
function envOf (body: readonly Instruction[]): Record<string, string> {
  const env: Record<string, string> = {}
  for (const a of args(body, 'ENV')) {
    for (const m of a.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env[m[1]!] = m[2]!.replace(/^"|"$/g, '')
  }
  return env
}

describe('deploy/Dockerfile', () => {
  it('has no syntax errors or warnings (dockerfile-utils)', () => {
    const problems = validate(text)
    expect(problems.map(p => `line ${p.range.start.line + 1}: ${p.message}`)).toEqual([])
  })

  it('the validator does fail on broken instructions', () => {
    // A proof that the check above can fail: each copy breaks one instruction.
    const broken = [
      text.replace('EXPOSE 9201', 'EXPOSE abc'),
      text.replace('EXPOSE 9201', 'EXPOSE 9201/sctpx'),
      text.replace('ENTRYPOINT', 'ENTRYPIONT'),
      text.replace('COPY --from=build', 'COPY --fromm=build'),
      text.replace('FROM ${NODE_IMAGE} AS runtime', 'FROM ${NODE_IMAGE} AS runtime extra'),
      text.replace('HEALTHCHECK --interval=30s', 'HEALTHCHECK --interval=30parsecs')
    ]
    for (const b of broken) {
      expect(b).not.toBe(text)
      expect(validate(b).length).toBeGreaterThan(0)
    }
  })

  it('is multi-stage on node:20-bookworm-slim: build with dev dependencies, run with production ones', () => {
    expect(stages(all).length).toBeGreaterThanOrEqual(2)
    expect(args(all, 'ARG')).toContain('NODE_IMAGE=node:20-bookworm-slim')
    for (const s of stages(all)) expect(s.from).toBe('${NODE_IMAGE}')
    expect(build.name).toBe('build')
    expect(args(build.body, 'RUN')).toEqual(expect.arrayContaining([expect.stringMatching(/^npm ci\b(?!.*--omit=dev)/), 'npm run build']))
    const runtimeRuns = args(runtime.body, 'RUN').join(' && ')
    expect(runtimeRuns).toMatch(/npm ci --omit=dev/)
    expect(runtimeRuns).not.toMatch(/npm run build|npm install(?! )/)
    // The runtime stage takes the compiled service from the build stage, not sources or node_modules.
    const copies = args(runtime.body, 'COPY')
    expect(copies.filter(c => c.startsWith('--from=build'))).toEqual(['--from=build /app/dist/src ./dist/src', '--from=build /app/dist/workers ./dist/workers'])
    expect(copies.filter(c => !c.startsWith('--from'))).toEqual(['package.json package-lock.json ./'])
  })

  it('copies only files that exist and that .dockerignore lets through', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map(l => l.trim()).filter(l => l !== '' && !l.startsWith('#'))
    expect(ignored).toEqual(expect.arrayContaining(['.git', 'node_modules', 'dist', 'data']))
    for (const c of args(build.body, 'COPY').concat(args(runtime.body, 'COPY').filter(c => !c.startsWith('--from')))) {
      const sources = c.split(/\s+/).slice(0, -1)
      for (const src of sources) {
        expect(existsSync(join(ROOT, src)), `${src} exists`).toBe(true)
        expect(ignored, `${src} is not ignored`).not.toContain(src)
      }
    }
  })

  it('runs as a numeric non-root user, with the data directory as a volume', () => {
    const users = args(runtime.body, 'USER')
    expect(users.length).toBe(1)
    const [uid, gid] = users[0]!.split(':')
    // Numeric: Kubernetes' runAsNonRoot cannot check a user name.
    expect(uid).toMatch(/^\d+$/)
    expect(Number(uid)).toBeGreaterThan(0)
    if (gid !== undefined) expect(Number(gid)).toBeGreaterThan(0)

    const env = envOf(runtime.body)
    const dataDir = env.PROM_INGEST_DATA_DIR
    expect(dataDir).toMatch(/^\//)
    expect(args(runtime.body, 'VOLUME')).toEqual([`["${dataDir!}"]`])
    // The directory is created for that user (a fresh volume copies its owner from the image).
    expect(args(runtime.body, 'RUN').some(r => r.includes(`mkdir -p ${dataDir!}`) && r.includes(`chown ${users[0]!} ${dataDir!}`))).toBe(true)

    // The StatefulSet mounts its volume at the same place and runs as the same user.
    const sts = baseFiles().flatMap(f => f.objects).find(o => o.kind === 'StatefulSet') as unknown as {
      spec: { template: { spec: { securityContext: { runAsUser: number }, containers: Array<{ volumeMounts: Array<{ name: string, mountPath: string }> }> } } }
    }
    const pod = sts.spec.template.spec
    expect(pod.containers[0]!.volumeMounts.find(m => m.name === 'data')?.mountPath).toBe(dataDir)
    expect(pod.securityContext.runAsUser).toBe(Number(uid))
  })

  it('exposes 9201, stops with SIGTERM and runs `serve` with settings from the environment', () => {
    expect(args(runtime.body, 'EXPOSE')).toEqual(['9201'])
    expect(args(runtime.body, 'STOPSIGNAL')).toEqual(['SIGTERM'])
    const entrypoint = JSON.parse(args(runtime.body, 'ENTRYPOINT')[0]!) as string[]
    const cmd = JSON.parse(args(runtime.body, 'CMD')[0]!) as string[]
    // Exec form: node is PID 1 and gets the SIGTERM itself (a shell would not pass it on).
    expect([...entrypoint, ...cmd]).toEqual(['node', 'dist/src/cli.js', 'serve'])
    expect(envOf(runtime.body).PROM_INGEST_LISTEN).toBe('0.0.0.0:9201')
    expect(envOf(runtime.body).NODE_ENV).toBe('production')
    // The health check, where there is one, asks the unauthenticated /healthz on the same port.
    for (const h of args(runtime.body, 'HEALTHCHECK')) expect(h).toContain('http://127.0.0.1:9201/healthz')
  })
})

describe('deploy/Dockerfile stages replayed without a container engine', () => {
  const work = mkdtempSync(join(tmpdir(), 'prom-ingest-image-'))
  afterAll(() => { rmSync(work, { recursive: true, force: true }) })
  const buildDir = join(work, 'build')
  const runtimeDir = join(work, 'runtime')

  /** Does what the stage's COPY lines do: `COPY a b dest` from `from` into `to` (WORKDIR /app). */
  function replayCopies (body: readonly Instruction[], from: (src: string) => string, to: string): void {
    for (const c of args(body, 'COPY')) {
      const words = c.split(/\s+/)
      const stage = words[0]!.startsWith('--from=') ? words.shift() : undefined
      const dest = words.pop()!
      for (const src of words) {
        const source = stage === undefined ? join(ROOT, src) : from(src)
        const target = dest.endsWith('/') ? join(to, dest, src.split('/').pop()!) : join(to, dest)
        mkdirSync(dirname(target), { recursive: true })
        cpSync(source, target, { recursive: true })
      }
    }
    // `npm ci` would install node_modules; link the project's instead (no registry here).
    symlinkSync(join(ROOT, 'node_modules'), join(to, 'node_modules'), 'dir')
  }

  it('the build stage\'s files compile with `npm run build` (tsc)', () => {
    replayCopies(build.body, () => { throw new Error('the build stage copies from no other stage') }, buildDir)
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: buildDir, encoding: 'utf8', timeout: 300_000 })
    expect(`${r.stdout}${r.stderr}`).toBe('')
    expect(r.status).toBe(0)
    expect(existsSync(join(buildDir, 'dist', 'src', 'cli.js'))).toBe(true)
  }, 300_000)

  it('the runtime stage\'s files run the service: it starts, gets ready and stops on SIGTERM', async () => {
    expect(existsSync(join(buildDir, 'dist')), 'the build stage ran').toBe(true)
    replayCopies(runtime.body, src => join(buildDir, src.replace(/^\/app\//, '')), runtimeDir)
    const [entry, ...cmd] = [...JSON.parse(args(runtime.body, 'ENTRYPOINT')[0]!) as string[], ...JSON.parse(args(runtime.body, 'CMD')[0]!) as string[]]
    expect(entry).toBe('node')
    const child = spawn(process.execPath, [...cmd, '--listen', '127.0.0.1:0'], {
      cwd: runtimeDir,
      env: { ...process.env, ...envOf(runtime.body), PROM_INGEST_DATA_DIR: join(work, 'data') },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const exited = new Promise<number | null>(resolve => child.once('exit', code => { resolve(code) }))
    let output = ''
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => { reject(new Error(`no 'listening' line in 30 s:\n${output}`)) }, 30_000)
        const onData = (chunk: Buffer): void => {
          output += chunk.toString()
          const m = /"port":(\d+)[^\n]*"msg":"listening"|"msg":"listening"[^\n]*"port":(\d+)/.exec(output)
          if (m !== null) { clearTimeout(timer); resolve(Number(m[1] ?? m[2])) }
        }
        child.stdout.on('data', onData)
        child.stderr.on('data', onData)
        void exited.then(code => { clearTimeout(timer); reject(new Error(`exited with ${String(code)} before listening:\n${output}`)) })
      })
      // Ready once listening: the store started before the port was opened.
      const res = await request(`http://127.0.0.1:${port}/readyz`)
      await res.body.text()
      expect(res.statusCode, output).toBe(200)
    } finally {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
      expect(await exited, output).toBe(0)
      clearTimeout(timer)
    }
  }, 120_000)
})
