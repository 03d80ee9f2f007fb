/**
 * Every deployed Lambda, bundled as a deploy bundles it (ServiceFunction's esbuild settings), weighed, and
 * imported cold in fresh Node processes against an empty module.
 */
import { execFile } from 'node:child_process'
import { mkdir, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'
import { App } from 'aws-cdk-lib'
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda'
import { build, type Format } from 'esbuild'
import { SERVICE_BUNDLING, ServiceFunction } from '../infra/constructs/service-function.js'
import { REPO_ROOT } from '../infra/repo-root.js'
import { UserIdentityLifecycleStack } from '../infra/stack.js'
import { median } from './stats.js'

const run = promisify(execFile)

export interface DeployedFunction {
  /** Construct path, e.g. SeamUserIdentities-bench/Api/CreateUserIdentityFunction. */
  readonly path: string
  readonly entry: string
  readonly memoryMb: number
  readonly architecture: string
  /** NODE_OPTIONS the function runs with. */
  readonly nodeOptions: string
}

/** Every ServiceFunction of the stack as a deploy defines it (constructed, not bundled). */
export function deployedFunctions(): DeployedFunction[] {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } })
  const stack = new UserIdentityLifecycleStack(app, 'SeamUserIdentities-bench', {
    stageName: 'bench',
    seamSecretName: 'seam/bench/api-key',
    env: { account: '123456789012', region: 'us-east-1' },
  })
  return stack.node
    .findAll()
    .filter((c): c is ServiceFunction => c instanceof ServiceFunction)
    .map((fn) => {
      const cfn = fn.function.node.defaultChild as CfnFunction
      const environment = stack.resolve(cfn.environment) as
        | { variables?: Record<string, unknown> }
        | undefined
      const nodeOptions = environment?.variables?.NODE_OPTIONS
      return {
        path: fn.node.path,
        entry: fn.entry,
        memoryMb: typeof cfn.memorySize === 'number' ? cfn.memorySize : 128,
        architecture: String((stack.resolve(cfn.architectures) as string[] | undefined)?.[0]),
        nodeOptions: typeof nodeOptions === 'string' ? nodeOptions : '',
      }
    })
}

export interface BundleResult {
  readonly entry: string
  /** How many deployed functions run this bundle. */
  readonly functions: number
  readonly bytes: number
  readonly gzipBytes: number
  readonly sourceMapBytes: number
  /** Cold `import()` of the bundle in a fresh process, median over runs. */
  readonly importMs: number
  readonly importRuns: readonly number[]
  /** importMs / the empty module's importMs. */
  readonly ratioToEmpty: number
}

export interface BundlesResult {
  readonly nodeVersion: string
  readonly nodeOptions: string
  readonly esbuild: Record<string, unknown>
  readonly runs: number
  /** Imports timed in parallel (smoke runs): the times are a check, not a measurement. */
  readonly parallel: boolean
  readonly emptyImportMs: number
  readonly emptyImportRuns: readonly number[]
  readonly bundles: readonly BundleResult[]
}

const IMPORT_TIMER = [
  "const { pathToFileURL } = await import('node:url')",
  'const started = performance.now()',
  'await import(pathToFileURL(process.argv[1]).href)',
  'process.stdout.write(String(performance.now() - started))',
].join('\n')

/** `runs` fresh processes per module, interleaved so drift in machine load hits all alike. */
export async function measureBundles(options: {
  runs: number
  workDir: string
  parallel: boolean
}) {
  const functions = deployedFunctions()
  const entries = [...new Set(functions.map((f) => f.entry))].sort()
  const nodeOptions = [...new Set(functions.map((f) => f.nodeOptions))].join(' ')
  const dir = join(options.workDir, 'bundles')
  await rm(dir, { recursive: true, force: true })
  const esbuildOptions = {
    bundle: true,
    platform: 'node',
    format: SERVICE_BUNDLING.format as Format,
    target: SERVICE_BUNDLING.target,
    minify: SERVICE_BUNDLING.minify,
    sourcemap: SERVICE_BUNDLING.sourceMap,
    mainFields: SERVICE_BUNDLING.mainFields,
    banner: { js: SERVICE_BUNDLING.banner },
    external: SERVICE_BUNDLING.externalModules,
  } as const
  // One esbuild call for all entries: without code splitting each output is exactly what a build of
  // that entry alone gives (CDK builds them one by one), only faster.
  // Inside the repository, so the external @aws-sdk/* resolve as the Lambda runtime provides them.
  const files = entries.map((entry, i) => ({ entry, file: join(dir, String(i), 'index.mjs') }))
  await build({
    ...esbuildOptions,
    mainFields: [...esbuildOptions.mainFields],
    external: [...esbuildOptions.external],
    entryPoints: files.map((f, i) => ({
      in: join(REPO_ROOT, f.entry),
      out: join(String(i), 'index'),
    })),
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    logLevel: 'error',
  })
  const empty = join(dir, 'empty', 'index.mjs')
  await mkdir(join(dir, 'empty'), { recursive: true })
  await writeFile(empty, '')

  const env = {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'us-east-1',
    NODE_OPTIONS: nodeOptions,
    POWERTOOLS_SERVICE_NAME: 'seam-user-identities',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  }
  const importOnce = async (file: string): Promise<number> => {
    const { stdout } = await run(
      process.execPath,
      ['--input-type=module', '-e', IMPORT_TIMER, file],
      { env, cwd: options.workDir },
    )
    const ms = Number(stdout)
    if (!Number.isFinite(ms)) throw new Error(`import timer printed ${JSON.stringify(stdout)}`)
    return ms
  }
  const { stdout: version } = await run(process.execPath, ['--version'], { env })
  const times = new Map<string, number[]>([[empty, []]])
  for (const { file } of files) times.set(file, [])
  const modules = [empty, ...files.map((f) => f.file)]
  for (let round = 0; round < options.runs; round++) {
    if (options.parallel) {
      // Quick runs only: processes competing for the CPUs distort the times.
      const measured = await Promise.all(modules.map(importOnce))
      for (const [i, file] of modules.entries()) times.get(file)?.push(measured[i] as number)
    } else {
      for (const file of modules) times.get(file)?.push(await importOnce(file))
    }
  }
  const emptyRuns = times.get(empty) ?? []
  const emptyMs = median(emptyRuns)
  const bundles: BundleResult[] = []
  for (const { entry, file } of files) {
    const code = await import('node:fs/promises').then((fs) => fs.readFile(file))
    const runs = times.get(file) ?? []
    bundles.push({
      entry,
      functions: functions.filter((f) => f.entry === entry).length,
      bytes: code.length,
      gzipBytes: gzipSync(code).length,
      sourceMapBytes: (await stat(`${file}.map`)).size,
      importMs: median(runs),
      importRuns: runs,
      ratioToEmpty: median(runs) / emptyMs,
    })
  }
  return {
    nodeVersion: version.trim(),
    nodeOptions,
    esbuild: { ...esbuildOptions },
    runs: options.runs,
    parallel: options.parallel,
    emptyImportMs: emptyMs,
    emptyImportRuns: emptyRuns,
    bundles,
    functions,
  } satisfies BundlesResult & { functions: DeployedFunction[] }
}
