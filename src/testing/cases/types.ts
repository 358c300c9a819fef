/**
 * The type round-trip matrix: each value written through recordkit and read back must be
 * equal, either exactly or after one documented conversion for that kind (which the suite
 * reports per backend, with the reason).
 */
import { pipe } from 'fp-ts/lib/function.js'
import { afterAll, describe, expect, it } from '../vitest.js'
import { as, avg, count, from, insertInto, select, sum, values, where } from '../../query.js'
import { readAs } from '../../query/cast.js'
import { json } from '../../sql.js'
import { ok, useBackend } from '../harness.js'
import type { ColumnTypes } from '../portable.js'
import type { CaseGroup } from '../target.js'

interface Kind {
  readonly column: (t: ColumnTypes) => string
  /** How the value is handed to recordkit, when not as it is. */
  readonly write?: (v: unknown) => unknown
  readonly values: readonly unknown[]
  /** The one conversion allowed when the engine has no exact type for the kind. */
  readonly normalize: (v: unknown) => unknown
  readonly why: string
}

const toBigInt = (v: unknown) => (typeof v === 'bigint' ? v : BigInt(String(v)))
const decimal = (v: unknown) => {
  const s = String(v)
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s
}
const instant = (v: unknown) => (v instanceof Date ? v.toISOString() : new Date(String(v).replace(' ', 'T') + (/[zZ]|[+-]\d\d:?\d\d$/.test(String(v)) ? '' : 'Z')).toISOString())
const day = (v: unknown) => (v instanceof Date ? v.toISOString().slice(0, 10) : String(v).slice(0, 10))
const parsed = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v)
const bytes = (v: unknown) => Array.from(v as Uint8Array)

const KINDS: Readonly<Record<string, Kind>> = {
  boolean: { column: (t) => t.bool, values: [true, false], normalize: (v) => v === true || v === 1 || v === '1' || v === 1n, why: 'no boolean type: stored as 0/1' },
  int32: { column: (t) => t.int, values: [2 ** 31 - 1, -(2 ** 31), 0], normalize: Number, why: 'integers come back as strings or bigint' },
  int64: { column: (t) => t.bigint, values: [2n ** 53n + 1n, -(2n ** 63n), 2n ** 63n - 1n], normalize: toBigInt, why: 'BIGINT comes back as a decimal string' },
  decimal: { column: (t) => t.decimal, values: ['1234567890.1234567890', '-0.0000000001', '99999999999999999999.5'], normalize: decimal, why: 'trailing zeros of the column scale are added' },
  double: { column: (t) => t.double, values: [Math.PI, -1.5e-300, 1e300, 0.1], normalize: Number, why: 'comes back as text' },
  text: { column: (t) => t.text, values: ["quote ' double \" backslash \\ semicolon ; -- comment", 'line\nbreak\ttab\r\nend', 'emoji 😀🚀 ñ ü 中文 العربية', ''], normalize: String, why: 'not expected' },
  date: { column: (t) => t.date, values: ['2024-02-29', '1970-01-01', '2099-12-31'], normalize: day, why: 'DATE comes back as a Date at midnight UTC' },
  timestamp: { column: (t) => t.timestamptz, values: [new Date('2024-03-10T01:59:59.123Z'), new Date('2024-06-01T12:00:00.5+05:30'), new Date('1999-12-31T23:59:59.999-08:00')], normalize: instant, why: 'timestamps come back as text in UTC' },
  jsonObject: { column: (t) => t.json, values: [{ a: 1, b: [1, 2, { c: "q'uote" }], n: null, t: true, u: 'ü😀' }], normalize: parsed, why: 'JSON comes back as text' },
  jsonArray: { column: (t) => t.json, write: json, values: [[1, 'two', null, { three: 3 }], []], normalize: parsed, why: 'JSON comes back as text' },
  binary: { column: (t) => t.blob, values: [new Uint8Array([0, 1, 2, 127, 128, 255, 0]), new Uint8Array([])], normalize: bytes, why: 'bytes come back in another container' },
  uuid: { column: (t) => t.uuid, values: ['6f1c2d2e-8b3a-4c5d-9e6f-0a1b2c3d4e5f'], normalize: (v) => String(v).toLowerCase(), why: 'not expected' },
  null: { column: (t) => t.text, values: [null], normalize: (v) => v, why: 'not expected' },
}

const deepEqual = (a: unknown, b: unknown): boolean => {
  try {
    expect(a).toStrictEqual(b)
    return true
  } catch {
    return false
  }
}

export const typeCases: CaseGroup = (target) => {
  describe(`${target.name}: type round trip`, () => {
    const db = useBackend(target, (t, q) => ({
      cf_types: ['id ' + t.int + ' PRIMARY KEY', ...Object.entries(KINDS).map(([k, kind]) => `${q(k.toLowerCase())} ${kind.column(t)}`)].join(', '),
    }))
    const report: string[] = []

    for (const [name, kind] of Object.entries(KINDS)) {
      it(`${name} values come back equal`, async () => {
        const columnName = name.toLowerCase()
        for (let i = 0; i < kind.values.length; i++) {
          const id = Object.keys(KINDS).indexOf(name) * 100 + i
          const v = kind.values[i]
          await ok(db().execute(pipe(insertInto('cf_types'), values({ id, [columnName]: kind.write ? kind.write(v) : v }))))
          const [row] = await ok(db().all(pipe(from('cf_types'), where({ id }))))
          const back = row[columnName]
          const expected = name === 'binary' ? bytes(v) : v
          if (name === 'binary' ? back instanceof Uint8Array && deepEqual(bytes(back), expected) : deepEqual(back, expected)) continue
          expect(kind.normalize(back), `${name} #${i} read back as ${typeof back} ${String(back)}`).toStrictEqual(kind.normalize(expected))
          if (!report.includes(name)) report.push(name)
        }
      })
    }

    it('named counts and integer sums come back as numbers, averages as numbers, JSON read with readAs parsed', async () => {
      const [r] = await ok(db().all(pipe(from('cf_types'), select(as(count(), 'n'), as(sum('int32'), 'total'), as(avg('int32'), 'mean')), where({ id: -1 }))))
      expect(r).toEqual({ n: 0, total: null, mean: null })
      await ok(db().execute(pipe(insertInto('cf_types'), values([{ id: -2, int32: 2, jsonobject: { k: [1] } }, { id: -3, int32: 5 }]))))
      const [g] = await ok(db().all(pipe(from('cf_types'), select(as(count(), 'n'), as(sum('int32'), 'total'), as(avg('int32'), 'mean')), where({ id: [-2, -3] }))))
      expect(g).toEqual({ n: 2, total: 7, mean: 3.5 })
      const docs = await ok(db().all(pipe(from('cf_types'), select(readAs('jsonobject', 'json')), where({ id: [-2, -3] }))))
      expect(docs.map((d) => d.jsonobject).sort((a, b) => (a === null ? 1 : b === null ? -1 : 0))).toEqual([{ k: [1] }, null])
    })

    afterAll(() => {
      const lines = report.map((k) => `  ${k}: ${target.notes?.[k] ?? KINDS[k].why}`)
      console.info(`${target.name}: exact round trip for ${Object.keys(KINDS).length - report.length} of ${Object.keys(KINDS).length} kinds${lines.length ? `; converted on read:\n${lines.join('\n')}` : ''}`)
    })
  })
}
