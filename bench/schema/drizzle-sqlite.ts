/**
 * The benchmark schema for Drizzle on SQLite (tables and relations for its relational queries).
 */
import { relations } from 'drizzle-orm'
import { integer, numeric, sqliteTable, text } from 'drizzle-orm/sqlite-core'

export const users = sqliteTable('users', {
  id: integer('id').primaryKey(),
  name: text('name').notNull(),
  email: text('email').notNull(),
  active: integer('active', { mode: 'boolean' }).notNull(),
  createdAt: text('created_at').notNull(),
})
const postColumns = {
  userId: integer('user_id').notNull(),
  title: text('title').notNull(),
  body: text('body').notNull(),
  published: integer('published', { mode: 'boolean' }).notNull(),
  score: integer('score').notNull(),
  createdAt: text('created_at').notNull(),
}
export const posts = sqliteTable('posts', { id: integer('id').primaryKey(), ...postColumns })
export const comments = sqliteTable('comments', {
  id: integer('id').primaryKey(),
  postId: integer('post_id').notNull(),
  author: text('author').notNull(),
  body: text('body').notNull(),
  createdAt: text('created_at').notNull(),
})
export const postInserts = sqliteTable('post_inserts', { id: integer('id').primaryKey(), ...postColumns })

export const items = sqliteTable('items', {
  id: integer('id').primaryKey(),
  sku: text('sku').notNull().unique(),
  name: text('name').notNull(),
  price: integer('price').notNull(),
  stock: integer('stock').notNull(),
})

export const usersRelations = relations(users, ({ many }) => ({ posts: many(posts) }))
export const postsRelations = relations(posts, ({ one, many }) => ({
  user: one(users, { fields: [posts.userId], references: [users.id] }),
  comments: many(comments),
}))
export const commentsRelations = relations(comments, ({ one }) => ({ post: one(posts, { fields: [comments.postId], references: [posts.id] }) }))

export const customer = sqliteTable('customer', {
  customerId: integer('customer_id').primaryKey(),
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
  supportRepId: integer('support_rep_id'),
})
export const invoice = sqliteTable('invoice', {
  invoiceId: integer('invoice_id').primaryKey(),
  customerId: integer('customer_id').notNull(),
  invoiceDate: text('invoice_date').notNull(),
  billingAddress: text('billing_address'),
  billingCity: text('billing_city'),
  billingState: text('billing_state'),
  billingCountry: text('billing_country'),
  billingPostalCode: text('billing_postal_code'),
  total: numeric('total').notNull(),
})
export const invoiceLine = sqliteTable('invoice_line', {
  invoiceLineId: integer('invoice_line_id').primaryKey(),
  invoiceId: integer('invoice_id').notNull(),
  trackId: integer('track_id').notNull(),
  unitPrice: numeric('unit_price').notNull(),
  quantity: integer('quantity').notNull(),
})
export const track = sqliteTable('track', {
  trackId: integer('track_id').primaryKey(),
  name: text('name').notNull(),
  albumId: integer('album_id'),
  mediaTypeId: integer('media_type_id').notNull(),
  genreId: integer('genre_id'),
  composer: text('composer'),
  milliseconds: integer('milliseconds').notNull(),
  bytes: integer('bytes'),
  unitPrice: numeric('unit_price').notNull(),
})
export const customerRelations = relations(customer, ({ many }) => ({ invoices: many(invoice) }))
export const invoiceRelations = relations(invoice, ({ one, many }) => ({
  customer: one(customer, { fields: [invoice.customerId], references: [customer.customerId] }),
  lines: many(invoiceLine),
}))
export const invoiceLineRelations = relations(invoiceLine, ({ one }) => ({ invoice: one(invoice, { fields: [invoiceLine.invoiceId], references: [invoice.invoiceId] }) }))
