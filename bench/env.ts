/**
 * Where the benchmark databases are, and the seeded data set every workload reads.
 *
 * PostgreSQL and MariaDB: a database named `bench` (or `RECORDKIT_BENCH_DB`) on the servers the tests use
 * (`RECORDKIT_PG_URL`, `RECORDKIT_MYSQL_URL`, with the database part replaced). SQLite: in
 * memory, one database per implementation, each copied from a template file built once.
 */
import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export type Engine = 'sqlite' | 'postgres' | 'mariadb'

export const ENGINES: readonly Engine[] = ['sqlite', 'postgres', 'mariadb']

/** The name each engine's client goes by in the tables. */
export const ENGINE_LABEL: Readonly<Record<Engine, string>> = {
  sqlite: 'SQLite (better-sqlite3, in memory)',
  postgres: 'PostgreSQL 15 (loopback)',
  mariadb: 'MariaDB 10.11 (loopback)',
}

const withDatabase = (url: string, db: string): string => {
  const u = new URL(url)
  u.pathname = `/${db}`
  return u.toString()
}

const PG_BASE = process.env.RECORDKIT_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const MYSQL_BASE = process.env.RECORDKIT_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test'

/** The server's maintenance database (where `bench` is created from). */
export const PG_ADMIN_URL = PG_BASE
export const MYSQL_ADMIN_URL = MYSQL_BASE
/** The name of the benchmark database on each server: `RECORDKIT_BENCH_DB`, default `bench`. */
export const BENCH_DB = process.env.RECORDKIT_BENCH_DB ?? 'bench'
if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(BENCH_DB)) throw new Error(`RECORDKIT_BENCH_DB must be a plain identifier, not ${JSON.stringify(BENCH_DB)}`)
/** The benchmark databases. */
export const PG_URL = withDatabase(PG_BASE, BENCH_DB)
export const MYSQL_URL = withDatabase(MYSQL_BASE, BENCH_DB)

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url))
/** Scratch files: SQLite templates, per-workload results, profiles. */
export const TMP_DIR = resolve(BENCH_DIR, '.tmp')
mkdirSync(TMP_DIR, { recursive: true })
export const SQLITE_TEMPLATE = resolve(TMP_DIR, 'template.sqlite')

// ---------------------------------------------------------------- the seeded data set

export const USERS = 1000
export const POSTS_PER_USER = 10
export const COMMENTS_PER_POST = 3
export const POSTS = USERS * POSTS_PER_USER
export const COMMENTS = POSTS * COMMENTS_PER_POST

const T0 = Date.UTC(2024, 0, 1)
const LOREM = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore.'

export interface UserRow { id: number; name: string; email: string; active: boolean; createdAt: Date }
export interface PostRow { id: number; userId: number; title: string; body: string; published: boolean; score: number; createdAt: Date }
export interface CommentRow { id: number; postId: number; author: string; body: string; createdAt: Date }

export const userRow = (i: number): UserRow => ({ id: i, name: `User ${i}`, email: `user${i}@example.com`, active: i % 3 !== 0, createdAt: new Date(T0 + i * 60_000) })
export const postRow = (j: number): PostRow => ({
  id: j, userId: Math.floor((j - 1) / POSTS_PER_USER) + 1, title: `Post ${j}`, body: `${LOREM} (${j})`, published: j % 4 !== 0, score: j % 100, createdAt: new Date(T0 + j * 1000),
})
export const commentRow = (k: number): CommentRow => ({
  id: k, postId: Math.floor((k - 1) / COMMENTS_PER_POST) + 1, author: `Reader ${k % 50}`, body: `Comment ${k}: ${LOREM.slice(0, 60)}`, createdAt: new Date(T0 + k * 500),
})

/** Rows for the insert workload (no id: the database generates it). */
export const newPost = (j: number): Omit<PostRow, 'id'> => {
  const { id: _, ...rest } = postRow(j)
  return rest
}

/** DDL of the seeded schema and of the insert target, per engine. */
export const DDL: Readonly<Record<Engine, readonly string[]>> = {
  sqlite: [
    'CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, active INTEGER NOT NULL, created_at TEXT NOT NULL)',
    'CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id), title TEXT NOT NULL, body TEXT NOT NULL, published INTEGER NOT NULL, score INTEGER NOT NULL, created_at TEXT NOT NULL)',
    'CREATE INDEX posts_user_id ON posts (user_id)',
    'CREATE TABLE comments (id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL REFERENCES posts (id), author TEXT NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL)',
    'CREATE INDEX comments_post_id ON comments (post_id)',
    'CREATE TABLE post_inserts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, published INTEGER NOT NULL, score INTEGER NOT NULL, created_at TEXT NOT NULL)',
  ],
  postgres: [
    'CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL, email text NOT NULL, active boolean NOT NULL, created_at timestamptz NOT NULL)',
    'CREATE TABLE posts (id int PRIMARY KEY, user_id int NOT NULL REFERENCES users (id), title text NOT NULL, body text NOT NULL, published boolean NOT NULL, score int NOT NULL, created_at timestamptz NOT NULL)',
    'CREATE INDEX posts_user_id ON posts (user_id)',
    'CREATE TABLE comments (id int PRIMARY KEY, post_id int NOT NULL REFERENCES posts (id), author text NOT NULL, body text NOT NULL, created_at timestamptz NOT NULL)',
    'CREATE INDEX comments_post_id ON comments (post_id)',
    'CREATE TABLE post_inserts (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, user_id int NOT NULL, title text NOT NULL, body text NOT NULL, published boolean NOT NULL, score int NOT NULL, created_at timestamptz NOT NULL)',
  ],
  mariadb: [
    'CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(200) NOT NULL, email VARCHAR(200) NOT NULL, active BOOLEAN NOT NULL, created_at DATETIME(3) NOT NULL)',
    'CREATE TABLE posts (id INT PRIMARY KEY, user_id INT NOT NULL, title VARCHAR(200) NOT NULL, body TEXT NOT NULL, published BOOLEAN NOT NULL, score INT NOT NULL, created_at DATETIME(3) NOT NULL, INDEX posts_user_id (user_id), FOREIGN KEY (user_id) REFERENCES users (id))',
    'CREATE TABLE comments (id INT PRIMARY KEY, post_id INT NOT NULL, author VARCHAR(200) NOT NULL, body TEXT NOT NULL, created_at DATETIME(3) NOT NULL, INDEX comments_post_id (post_id), FOREIGN KEY (post_id) REFERENCES posts (id))',
    'CREATE TABLE post_inserts (id INT AUTO_INCREMENT PRIMARY KEY, user_id INT NOT NULL, title VARCHAR(200) NOT NULL, body TEXT NOT NULL, published BOOLEAN NOT NULL, score INT NOT NULL, created_at DATETIME(3) NOT NULL)',
  ],
}

/** Tables of the seeded schema, children first (the order to drop them in). */
export const BLOG_TABLES = ['comments', 'posts', 'users', 'post_inserts'] as const

/** The columns of each seeded table, in DDL order. */
export const COLUMNS = {
  users: ['id', 'name', 'email', 'active', 'created_at'],
  posts: ['id', 'user_id', 'title', 'body', 'published', 'score', 'created_at'],
  comments: ['id', 'post_id', 'author', 'body', 'created_at'],
  post_inserts: ['user_id', 'title', 'body', 'published', 'score', 'created_at'],
} as const
