/**
 * Once per test run, before any test file: Chinook loaded into the `chinook` database of each
 * server that answers (a server that does not is left to the suites, which skip or fail).
 */
import { ensureMariadbChinook, ensurePostgresChinook } from './chinook.js'
import { serverAvailable } from './servers.js'

export default async function setup(): Promise<void> {
  if (await serverAvailable('mariadb')) await ensureMariadbChinook()
  if (await serverAvailable('postgres')) await ensurePostgresChinook()
}
