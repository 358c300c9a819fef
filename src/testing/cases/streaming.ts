/**
 * Streaming large results in batches, on any backend.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from '../vitest.js'
import { from, insertInto, orderBy, select, values } from '../../query.js'
import { ok, useBackend } from '../harness.js'
import type { CaseGroup } from '../target.js'

const ROWS = 5000

export const streamingCases: CaseGroup = (target) => {
  describe(`${target.name}: streaming`, () => {
    const db = useBackend(target, (t) => ({ cf_stream: `id ${t.int} PRIMARY KEY, label ${t.varchar(20)} NOT NULL` }))

    it('streams every row in order, in batches', async () => {
      const rows = Array.from({ length: ROWS }, (_, i) => ({ id: i + 1, label: `row ${i + 1}` }))
      for (let i = 0; i < rows.length; i += 1000) await ok(db().execute(pipe(insertInto('cf_stream'), values(rows.slice(i, i + 1000)))))
      let n = 0
      let last = 0
      for await (const r of db().stream(pipe(from('cf_stream'), select('id'), orderBy('id')), { batchSize: 128 })) {
        n++
        expect(Number(r.id)).toBe(last + 1)
        last = Number(r.id)
      }
      expect(n).toBe(ROWS)
    })

    it('releases the connection when the consumer stops early', async () => {
      let seen = 0
      for await (const _ of db().stream(pipe(from('cf_stream'), orderBy('id')), { batchSize: 50 })) {
        if (++seen === 10) break
      }
      expect(seen).toBe(10)
      // The connection is free again: ordinary queries and transactions still run.
      const rows = await ok(db().all(pipe(from('cf_stream'), select('id'), orderBy('id'), (q) => ({ ...q, limit: 1 }))))
      expect(Number(rows[0].id)).toBe(1)
      await ok(db().transaction((tx) => tx.all(pipe(from('cf_stream'), (q) => ({ ...q, limit: 1 })))))
    })

    it('streams inside a transaction on its connection', async () => {
      const count = await ok(db().transaction(() => async () => {
        let c = 0
        for await (const _ of db().stream(pipe(from('cf_stream'), select('id')), { batchSize: 1000 })) c++
        return { _tag: 'Right' as const, right: c }
      }))
      expect(count).toBe(ROWS)
    })

    it('surfaces a failing statement as a DbError from the iterator', async () => {
      const iterate = async () => {
        for await (const _ of db().stream(pipe(from('cf_stream_missing'), select('id')))) void _
      }
      await expect(iterate()).rejects.toMatchObject({ _tag: 'QueryError' })
    })
  })
}
