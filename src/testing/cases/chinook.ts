/**
 * The query language over Chinook: realistic reports that must give the same rows on every
 * backend (compared normalised: numbers rounded to 2 decimals, timestamps as UTC text,
 * strings as they are). Runs when the target provides `chinook`, a backend with Chinook
 * loaded; the expected rows are written here, so every backend is held to the same answer.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { afterAll, beforeAll, describe, expect, it } from '../vitest.js'
import type { SelectLike } from '../../ast.js'
import type { Backend } from '../../compose.js'
import {
  add, as, avg, between, col, concat, count, eq, exists, fn, from, groupBy, gt, having, isIn, isNull, join, leftJoin, limit, lt,
  max, min, mul, notExists, orderBy, select, sub, subquery, sum, val, where,
} from '../../query.js'
import {
  cast, caseWhen, countDistinct, cte, dateTrunc, denseRank, derived, desc, except, extract, filterWhere, intersect, lag, lead, ntile, over, rank, rows,
  unionAll, withCte, withRecursive,
} from '../../query/index.js'
import { ok } from '../harness.js'
import { normaliseRows } from '../normalise.js'
import type { CaseGroup } from '../target.js'

/** One report: its query and the rows every backend must return. */
export interface ChinookCase {
  readonly name: string
  readonly query: SelectLike
  readonly rows: readonly (readonly unknown[])[]
}

/** What a customer spent: the sum of their invoice lines. */
const spent = sum(mul('l.unit_price', col('l.quantity')))

/** Revenue per customer. */
const revenue = pipe(
  from('invoice i'), join('invoice_line l', ['l.invoice_id', 'i.invoice_id']),
  select('i.customer_id', as(spent, 'revenue')), groupBy('i.customer_id'),
)

/**
 * The org chart: each employee with their depth under the general manager and the path of
 * names. Both halves cast the path to one type: MySQL sizes the column from the first half,
 * PostgreSQL wants them equal.
 */
const org = cte('org', pipe(
  from('employee'), where(isNull('reports_to')),
  select('employee_id', as(cast(val(0), 'integer'), 'depth'), as(cast('last_name', 'varchar(200)'), 'path')),
  unionAll(pipe(
    from('employee e'), join('org o', ['e.reports_to', 'o.employee_id']),
    select('e.employee_id', as(add('o.depth', val(1)), 'depth'), as(cast(concat(concat('o.path', val(' > ')), col('e.last_name')), 'varchar(200)'), 'path')),
  )),
))

/** Genres of the tracks bought by customers of one country. */
const genresBoughtIn = (country: string) => pipe(
  from('genre g'), join('track t', ['t.genre_id', 'g.genre_id']), join('invoice_line l', ['l.track_id', 't.track_id']),
  join('invoice i', ['i.invoice_id', 'l.invoice_id']), join('customer c', ['c.customer_id', 'i.customer_id']),
  select('g.genre_id', 'g.name'), where(eq('c.country', country)),
)

/** Revenue per calendar month. */
const monthly = pipe(
  from('invoice'),
  select(as(extract('year', 'invoice_date'), 'y'), as(extract('month', 'invoice_date'), 'm'), as(sum('total'), 'revenue')),
  groupBy(extract('year', 'invoice_date'), extract('month', 'invoice_date')),
)

/** Revenue per year. */
const yearly = pipe(from('invoice'), select(as(extract('year', 'invoice_date'), 'y'), as(sum('total'), 'revenue')), groupBy(extract('year', 'invoice_date')))

/** Tracks per artist. */
const tracksPerArtist = pipe(
  from('artist ar'), join('album al', ['al.artist_id', 'ar.artist_id']), join('track t', ['t.album_id', 'al.album_id']),
  select('ar.artist_id', 'ar.name', as(count(), 'tracks')), groupBy('ar.artist_id', 'ar.name'),
)

/** The reports. */
export const chinookReports: readonly ChinookCase[] = [
  {
    name: 'top customer by revenue in each country (RANK over a partition)',
    query: pipe(
      from(derived(pipe(
        from('customer c'), join(derived(revenue, 'r'), ['r.customer_id', 'c.customer_id']),
        select('c.country', 'c.customer_id', 'r.revenue', as(over(rank(), { partitionBy: ['c.country'], orderBy: [desc('r.revenue')] }), 'place')),
      ), 'ranked')),
      select('country', 'customer_id', 'revenue'), where(eq('place', 1)), where(gt('revenue', 40)), orderBy('revenue', 'desc'), orderBy('customer_id'),
    ),
    rows: [
      ['Czech Republic', 6, 49.62], ['USA', 26, 47.62], ['Chile', 57, 46.62], ['Hungary', 45, 45.62],
      ['Ireland', 46, 45.62], ['Germany', 37, 43.62], ['Austria', 7, 42.62], ['Finland', 44, 41.62],
      ['France', 43, 40.62], ['Netherlands', 48, 40.62],
    ],
  },
  {
    name: 'employee hierarchy (WITH RECURSIVE over reports_to)',
    query: pipe(from('org'), select('employee_id', 'depth', 'path'), orderBy('depth'), orderBy('employee_id'), withRecursive(org)),
    rows: [
      [1, 0, 'Adams'], [2, 1, 'Adams > Edwards'], [6, 1, 'Adams > Mitchell'], [3, 2, 'Adams > Edwards > Peacock'],
      [4, 2, 'Adams > Edwards > Park'], [5, 2, 'Adams > Edwards > Johnson'], [7, 2, 'Adams > Mitchell > King'],
      [8, 2, 'Adams > Mitchell > Callahan'],
    ],
  },
  {
    name: 'genres never bought by customers in Brazil (EXCEPT)',
    query: pipe(from('genre'), select('genre_id', 'name'), except(genresBoughtIn('Brazil')), orderBy('genre_id')),
    rows: [
      [2, 'Jazz'], [5, 'Rock And Roll'], [11, 'Bossa Nova'], [12, 'Easy Listening'], [13, 'Heavy Metal'],
      [15, 'Electronica/Dance'], [18, 'Science Fiction'], [19, 'TV Shows'], [21, 'Drama'], [22, 'Comedy'],
      [23, 'Alternative'], [25, 'Opera'],
    ],
  },
  {
    name: 'genres never bought by customers in Brazil (NOT EXISTS)',
    query: pipe(
      from('genre g0'), select('g0.genre_id', 'g0.name'),
      where(notExists(pipe(genresBoughtIn('Brazil'), where(eq('g.genre_id', col('g0.genre_id')))))), orderBy('g0.genre_id'),
    ),
    rows: [
      [2, 'Jazz'], [5, 'Rock And Roll'], [11, 'Bossa Nova'], [12, 'Easy Listening'], [13, 'Heavy Metal'],
      [15, 'Electronica/Dance'], [18, 'Science Fiction'], [19, 'TV Shows'], [21, 'Drama'], [22, 'Comedy'],
      [23, 'Alternative'], [25, 'Opera'],
    ],
  },
  {
    name: 'monthly revenue with a running total through 2022 (SUM OVER a ROWS frame)',
    query: pipe(
      from(derived(monthly, 'mr')),
      select('y', 'm', 'revenue', as(over(sum('revenue'), { orderBy: ['y', 'm'], frame: rows('unbounded preceding', 'current row') }), 'running')),
      where(eq('y', 2022)), orderBy('y'), orderBy('m'),
    ),
    rows: [
      [2022, 1, 52.62, 52.62], [2022, 2, 46.62, 99.24], [2022, 3, 44.62, 143.86], [2022, 4, 37.62, 181.48],
      [2022, 5, 37.62, 219.1], [2022, 6, 37.62, 256.72], [2022, 7, 37.62, 294.34], [2022, 8, 37.62, 331.96],
      [2022, 9, 36.63, 368.59], [2022, 10, 37.62, 406.21], [2022, 11, 37.62, 443.83], [2022, 12, 37.62, 481.45],
    ],
  },
  {
    name: 'artists with the most tracks, ties kept (DENSE_RANK)',
    query: pipe(
      // A window orders by the aggregate itself: engines other than MySQL do not see the alias there.
      from(derived(pipe(tracksPerArtist, select(as(over(denseRank(), { orderBy: [desc(count())] }), 'place'))), 'ta')),
      select('place', 'name', 'tracks'), where(lt('place', 6)), orderBy('place'), orderBy('artist_id'),
    ),
    rows: [
      [1, 'Iron Maiden', 213], [2, 'U2', 135], [3, 'Led Zeppelin', 114], [4, 'Metallica', 112],
      [5, 'Deep Purple', 92], [5, 'Lost', 92],
    ],
  },
  {
    name: 'revenue per year against the year before and after (LAG, LEAD)',
    query: pipe(
      from(derived(yearly, 'yr')),
      select('y', 'revenue', as(sub('revenue', over(lag('revenue'), { orderBy: ['y'] })), 'change'), as(over(lead('revenue'), { orderBy: ['y'] }), 'next_year')),
      orderBy('y'),
    ),
    rows: [
      [2021, 449.46, null, 481.45], [2022, 481.45, 31.99, 469.58], [2023, 469.58, -11.87, 477.53],
      [2024, 477.53, 7.95, 450.58], [2025, 450.58, -26.95, null],
    ],
  },
  {
    name: 'invoices whose total disagrees with their lines (correlated scalar subquery)',
    query: pipe(
      from('invoice i'), select(as(count(), 'n')),
      where(gt(fn('abs', sub('i.total', subquery(pipe(from('invoice_line l'), select(sum(mul('l.unit_price', col('l.quantity')))), where(eq('l.invoice_id', col('i.invoice_id'))))))), 0.001)),
    ),
    rows: [
      [0],
    ],
  },
  {
    name: 'track lengths per genre (CASE buckets, FILTER counts)',
    query: pipe(
      from('track t'), select(
        'genre_id',
        as(filterWhere(count(), lt('milliseconds', 180000)), 'short'),
        as(filterWhere(count(), between('milliseconds', 180000, 300000)), 'medium'),
        as(count(caseWhen([[gt('milliseconds', 300000), val(1)]])), 'long'),
        // Both branches are parameters: PostgreSQL reads them as text unless told.
        as(cast(avg(cast(caseWhen([[lt('milliseconds', 180000), 1]], 0), 'integer')), 'decimal(10,2)'), 'short_share'),
      ), where(lt('genre_id', 6)), groupBy('genre_id'), orderBy('genre_id'),
    ),
    rows: [
      [1, 153, 737, 407, 0.12], [2, 13, 73, 44, 0.1], [3, 25, 181, 168, 0.07], [4, 63, 229, 40, 0.19],
      [5, 12, 0, 0, 1],
    ],
  },
  {
    name: 'countries with both customers and employees (INTERSECT)',
    query: pipe(from('customer'), select('country'), intersect(pipe(from('employee'), select('country'))), orderBy('country')),
    rows: [
      ['Canada'],
    ],
  },
  {
    name: 'customers per support rep and the rep\'s manager (self-join)',
    query: pipe(
      from('customer c'), join('employee rep', ['rep.employee_id', 'c.support_rep_id']), leftJoin('employee boss', ['boss.employee_id', 'rep.reports_to']),
      select('rep.employee_id', 'boss.employee_id as boss_id', as(count(), 'customers'), as(countDistinct('c.country'), 'countries')),
      groupBy('rep.employee_id', 'boss.employee_id'), orderBy('rep.employee_id'),
    ),
    rows: [
      [3, 2, 21, 10], [4, 2, 20, 12], [5, 2, 18, 13],
    ],
  },
  {
    name: 'customers in spending quartiles (NTILE)',
    query: pipe(
      from(derived(pipe(revenue, select(as(over(ntile(4), { orderBy: [spent, 'i.customer_id'] }), 'quartile'))), 'q')),
      select('quartile', as(count(), 'customers'), as(min('revenue'), 'low'), as(max('revenue'), 'high')), groupBy('quartile'), orderBy('quartile'),
    ),
    rows: [
      [1, 15, 36.64, 37.62], [2, 15, 37.62, 37.62], [3, 15, 37.62, 39.62], [4, 14, 40.62, 49.62],
    ],
  },
  {
    name: 'longest and shortest tracks (UNION ALL of limited members, ordered as a whole)',
    query: pipe(
      pipe(from('track'), select('track_id', 'milliseconds'), orderBy('milliseconds', 'desc'), orderBy('track_id'), limit(2)),
      unionAll(pipe(from('track'), select('track_id', 'milliseconds'), orderBy('milliseconds'), orderBy('track_id'), limit(2))),
      orderBy('milliseconds'),
    ),
    rows: [
      [2461, 1071], [168, 4884], [3224, 5088838], [2820, 5286953],
    ],
  },
  {
    name: 'customers above the average spend, with their first and last purchase year (derived tables, CTE)',
    query: pipe(
      from('spend s'), join('customer c', ['c.customer_id', 's.customer_id']),
      select('c.customer_id', 's.revenue', as(extract('year', 's.first_at'), 'first_year'), as(extract('year', 's.last_at'), 'last_year')),
      where(gt('s.revenue', subquery(pipe(from('spend'), select(avg('revenue')))))), where(gt('s.revenue', 45)), orderBy('s.revenue', 'desc'), orderBy('c.customer_id'),
      withCte(cte('spend', pipe(
        from('invoice'), select('customer_id', as(sum('total'), 'revenue'), as(min('invoice_date'), 'first_at'), as(max('invoice_date'), 'last_at')), groupBy('customer_id'),
      ))),
    ),
    rows: [
      [6, 49.62, 2021, 2025], [26, 47.62, 2021, 2025], [57, 46.62, 2021, 2024], [45, 45.62, 2022, 2025],
      [46, 45.62, 2021, 2025],
    ],
  },
  {
    name: 'invoices per month of 2023 (date truncation in GROUP BY)',
    query: pipe(
      from('invoice'), select(as(dateTrunc('month', 'invoice_date'), 'month'), as(count(), 'invoices'), as(sum('total'), 'revenue')),
      where(eq(extract('year', 'invoice_date'), 2023)), groupBy(dateTrunc('month', 'invoice_date')), orderBy(dateTrunc('month', 'invoice_date')), limit(4),
    ),
    rows: [
      ['2023-01-01 00:00:00', 7, 37.62], ['2023-02-01 00:00:00', 7, 37.62], ['2023-03-01 00:00:00', 7, 37.62],
      ['2023-04-01 00:00:00', 7, 51.62],
    ],
  },
  {
    name: 'playlists with the most distinct genres (LEFT JOIN, COUNT DISTINCT, HAVING, IN)',
    query: pipe(
      from('playlist p'), leftJoin('playlist_track pt', ['pt.playlist_id', 'p.playlist_id']), leftJoin('track t', ['t.track_id', 'pt.track_id']),
      select('p.playlist_id', as(count('pt.track_id'), 'tracks'), as(countDistinct('t.genre_id'), 'genres')),
      where(isIn('p.playlist_id', pipe(from('playlist_track'), select('playlist_id'), where(exists(pipe(from('track x'), select('x.track_id'), where(eq('x.track_id', col('playlist_track.track_id'))))))))),
      groupBy('p.playlist_id'), having(gt(countDistinct('t.genre_id'), 3)), orderBy('p.playlist_id'),
    ),
    rows: [
      [1, 3290, 20], [3, 213, 5], [5, 1477, 16], [8, 3290, 20], [10, 213, 5],
    ],
  },
]

export const chinookCases: CaseGroup = (target) => {
  const connectChinook = target.chinook
  describe.skipIf(connectChinook === undefined)(`${target.name}: reports over Chinook`, () => {
    let db: Backend | undefined
    beforeAll(async () => {
      db = await connectChinook!()
    })
    afterAll(async () => {
      if (db !== undefined) await ok(db.close())
    })
    for (const c of chinookReports) {
      it(c.name, async () => {
        expect(normaliseRows(await ok(db!.all(c.query)))).toEqual(c.rows)
      })
    }
  })
}
