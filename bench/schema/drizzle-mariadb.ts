/**
 * The benchmark schema for Drizzle on MariaDB (tables and relations for its relational queries).
 */
import { relations } from 'drizzle-orm'
import { boolean, datetime, decimal, int, mysqlTable, text, varchar } from 'drizzle-orm/mysql-core'

export const users = mysqlTable('users', {
  id: int('id').primaryKey(),
  name: text('name').notNull(),
  email: text('email').notNull(),
  active: boolean('active').notNull(),
  createdAt: datetime('created_at', { mode: 'date', fsp: 3 }).notNull(),
})
const postColumns = {
  userId: int('user_id').notNull(),
  title: text('title').notNull(),
  body: text('body').notNull(),
  published: boolean('published').notNull(),
  score: int('score').notNull(),
  createdAt: datetime('created_at', { mode: 'date', fsp: 3 }).notNull(),
}
export const posts = mysqlTable('posts', { id: int('id').primaryKey(), ...postColumns })
export const comments = mysqlTable('comments', {
  id: int('id').primaryKey(),
  postId: int('post_id').notNull(),
  author: text('author').notNull(),
  body: text('body').notNull(),
  createdAt: datetime('created_at', { mode: 'date', fsp: 3 }).notNull(),
})
export const postInserts = mysqlTable('post_inserts', { id: int('id').autoincrement().primaryKey(), ...postColumns })

export const items = mysqlTable('items', {
  id: int('id').autoincrement().primaryKey(),
  sku: varchar('sku', { length: 40 }).notNull().unique(),
  name: varchar('name', { length: 200 }).notNull(),
  price: int('price').notNull(),
  stock: int('stock').notNull(),
})

export const usersRelations = relations(users, ({ many }) => ({ posts: many(posts) }))
export const postsRelations = relations(posts, ({ one, many }) => ({
  user: one(users, { fields: [posts.userId], references: [users.id] }),
  comments: many(comments),
}))
export const commentsRelations = relations(comments, ({ one }) => ({ post: one(posts, { fields: [comments.postId], references: [posts.id] }) }))

export const customer = mysqlTable('customer', {
  customerId: int('customer_id').primaryKey(),
  firstName: text('first_name').notNull(),
  lastName: text('last_name').notNull(),
  company: text('company'),
  address: text('address'),
  city: text('city'),
  state: text('state'),
  country: text('country'),
  postalCode: text('postal_code'),
  phone: text('phone'),
  fax: text('fax'),
  email: text('email').notNull(),
  supportRepId: int('support_rep_id'),
})
export const invoice = mysqlTable('invoice', {
  invoiceId: int('invoice_id').primaryKey(),
  customerId: int('customer_id').notNull(),
  invoiceDate: datetime('invoice_date', { mode: 'date' }).notNull(),
  billingAddress: text('billing_address'),
  billingCity: text('billing_city'),
  billingState: text('billing_state'),
  billingCountry: text('billing_country'),
  billingPostalCode: text('billing_postal_code'),
  total: decimal('total', { precision: 10, scale: 2 }).notNull(),
})
export const invoiceLine = mysqlTable('invoice_line', {
  invoiceLineId: int('invoice_line_id').primaryKey(),
  invoiceId: int('invoice_id').notNull(),
  trackId: int('track_id').notNull(),
  unitPrice: decimal('unit_price', { precision: 10, scale: 2 }).notNull(),
  quantity: int('quantity').notNull(),
})
export const track = mysqlTable('track', {
  trackId: int('track_id').primaryKey(),
  name: text('name').notNull(),
  albumId: int('album_id'),
  mediaTypeId: int('media_type_id').notNull(),
  genreId: int('genre_id'),
  composer: text('composer'),
  milliseconds: int('milliseconds').notNull(),
  bytes: int('bytes'),
  unitPrice: decimal('unit_price', { precision: 10, scale: 2 }).notNull(),
})
export const customerRelations = relations(customer, ({ many }) => ({ invoices: many(invoice) }))
export const invoiceRelations = relations(invoice, ({ one, many }) => ({
  customer: one(customer, { fields: [invoice.customerId], references: [customer.customerId] }),
  lines: many(invoiceLine),
}))
export const invoiceLineRelations = relations(invoiceLine, ({ one }) => ({ invoice: one(invoice, { fields: [invoiceLine.invoiceId], references: [invoice.invoiceId] }) }))
