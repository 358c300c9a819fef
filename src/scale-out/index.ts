/**
 * Scale-out as compositions of backends: read replicas, sharding, PgBouncer and multi-host
 * PostgreSQL drivers, and Galera's retryable certification conflicts.
 *
 * @example
 * import { withReplicas, shard } from 'recordkit/scale-out'
 */
export { isReplicaRead, postgresReplicaCheck, withReplicas, type ReplicaHealth, type ReplicaOptions, type ReplicatedBackend } from './replicas.js'
export { pgbouncerDriver, setsSessionState } from './pgbouncer.js'
export { hashRoute, shard, type ShardOptions, type ShardedBackend } from './shard.js'
export { galeraDriver, galeraRetry, type GaleraOptions } from './galera.js'
export { flavourOf, type SqlFlavour } from './sql-text.js'
