/**
 * Statement nodes and model queries built the same way share one hidden class. On Node 20 an
 * object literal that spreads another object and adds a key it lacks (`{ ...q, where }`) gets a
 * hidden class of its own on every call, which made every function reading such nodes slow
 * (src/objects.ts). The builders copy with `withFields` instead; this checks the result with
 * V8's own `%HaveSameMap`, in a fresh Node process started with `--allow-natives-syntax`.
 */
import { describe, expect, it } from 'vitest'
import { lastJson, scriptOutput, srcModule as src } from './support/node-script.js'

/** For each named builder chain, how many of 30 consecutive results share the previous one's hidden class. */
const sharing = (chains: Readonly<Record<string, string>>): Record<string, number> => {
  const script = [
    `import { pipe } from 'fp-ts/lib/function.js'`,
    `import * as t from 'io-ts'`,
    `import * as q from ${src('query/index.ts')}`,
    `import * as m from ${src('model/index.ts')}`,
    `import { toSelect } from ${src('model/query.ts')}`,
    `const same = new Function('a', 'b', 'return %HaveSameMap(a, b)')`,
    `const User = m.model({ table: 'users', primaryKey: 'id', codec: t.type({ id: t.number, name: t.string, active: m.bool }) })`,
    `const chains = { ${Object.entries(chains).map(([k, v]) => `${JSON.stringify(k)}: (i) => ${v}`).join(', ')} }`,
    `const out = {}`,
    `for (const [k, f] of Object.entries(chains)) { const xs = Array.from({ length: 31 }, (_, i) => f(i)); out[k] = xs.slice(1).filter((x, i) => same(x, xs[i])).length }`,
    `console.log(JSON.stringify(out))`,
  ].join('\n')
  return lastJson<Record<string, number>>(scriptOutput(script, ['--allow-natives-syntax']))
}

describe('hidden classes of built nodes', () => {
  it('every copy of a node or model query made the same way has the same hidden class', () => {
    const r = sharing({
      // The check itself: a spread that adds a key is what it must catch.
      'a spread adding a key': `({ ...{ kind: 'x' }, where: i })`,
      'UPDATE with WHERE': `pipe(q.update('posts'), q.set({ title: 't' + i }), q.where(q.eq('id', i)))`,
      'UPDATE with ORDER BY, LIMIT, RETURNING': `pipe(q.update('posts'), q.set({ title: 't' }), q.where(q.eq('id', i)), q.orderBy('id'), q.limit(i + 1), q.returning('id'))`,
      'DELETE with WHERE': `pipe(q.deleteFrom('posts'), q.where(q.eq('id', i)))`,
      'INSERT with values and upsert': `pipe(q.insertInto('posts'), q.values({ id: i, title: 't' }), q.onConflict(['id'], ['title']), q.returning('id'))`,
      'SELECT with WHERE, ORDER BY, LIMIT': `pipe(q.from('users'), q.select('id'), q.where(q.eq('id', i)), q.orderBy('id'), q.limit(5))`,
      'model query': `pipe(User.query, User.where({ id: i }), User.orderBy('id'), User.limit(10), User.offset(i))`,
      'model query with fields': `pipe(User.query, User.select('id', 'name'), User.where({ id: i }))`,
      'model query as SELECT': `toSelect(pipe(User.query, User.where({ id: i }), User.limit(1)))`,
    })
    expect(r['a spread adding a key']).toBeLessThan(30)
    const { ['a spread adding a key']: _, ...built } = r
    expect(built).toEqual(Object.fromEntries(Object.keys(built).map((k) => [k, 30])))
  }, 60_000)
})
