/**
 * The benchmark schema as Kysely's database interface (types only).
 */
import type { Generated } from 'kysely'

type Bool = boolean | number
type Stamp = Date | string

export interface KyselyDB {
  users: { id: number; name: string; email: string; active: Bool; created_at: Stamp }
  posts: { id: number; user_id: number; title: string; body: string; published: Bool; score: number; created_at: Stamp }
  comments: { id: number; post_id: number; author: string; body: string; created_at: Stamp }
  post_inserts: { id: Generated<number>; user_id: number; title: string; body: string; published: Bool; score: number; created_at: Stamp }
  items: { id: Generated<number>; sku: string; name: string; price: number; stock: number }
  customer: {
    customer_id: number; first_name: string; last_name: string; company: string | null; address: string | null; city: string | null
    state: string | null; country: string | null; postal_code: string | null; phone: string | null; fax: string | null; email: string
    support_rep_id: number | null
  }
  invoice: {
    invoice_id: number; customer_id: number; invoice_date: Stamp; billing_address: string | null; billing_city: string | null
    billing_state: string | null; billing_country: string | null; billing_postal_code: string | null; total: string | number
  }
  invoice_line: { invoice_line_id: number; invoice_id: number; track_id: number; unit_price: string | number; quantity: number }
  track: {
    track_id: number; name: string; album_id: number | null; media_type_id: number; genre_id: number | null; composer: string | null
    milliseconds: number; bytes: number | null; unit_price: string | number
  }
}
