/**
 * The few Either and Option functions the core runs on, written here so that importing
 * `recordkit`, the builders, a dialect or a driver does not load `fp-ts/lib/Either.js` (which
 * pulls in some twenty fp-ts modules, about a third of a cold start). The values are the very
 * shapes fp-ts defines (`{ _tag: 'Left', left }`, `{ _tag: 'Some', value }`), typed with fp-ts'
 * own types, so they are fp-ts Eithers and Options to every caller.
 */
import type { Either, Left, Right } from 'fp-ts/lib/Either.js'
import type { None, Option } from 'fp-ts/lib/Option.js'

export type { Either, Left, Right, None, Option }

/**
 * A failure.
 * @example left(new Error('no')) // { _tag: 'Left', left: Error('no') }
 */
export const left = <E = never, A = never>(e: E): Either<E, A> => ({ _tag: 'Left', left: e })

/**
 * A success.
 * @example right(1) // { _tag: 'Right', right: 1 }
 */
export const right = <E = never, A = never>(a: A): Either<E, A> => ({ _tag: 'Right', right: a })

/**
 * Whether an Either is a failure.
 * @example isLeft(left(1)) // true
 */
export const isLeft = <E, A>(ma: Either<E, A>): ma is Left<E> => ma._tag === 'Left'

/**
 * Whether an Either is a success.
 * @example isRight(right(1)) // true
 */
export const isRight = <E, A>(ma: Either<E, A>): ma is Right<A> => ma._tag === 'Right'

/**
 * Whether a value of unknown origin (what a user's callback returned) is an Either: a Left with
 * its own `left` or a Right with its own `right`.
 * @example isEither({ _tag: 'Right', right: 1 }) // true
 */
export const isEither = (x: unknown): x is Either<unknown, unknown> =>
  typeof x === 'object' && x !== null && (((x as { _tag?: unknown })._tag === 'Left' && Object.hasOwn(x, 'left')) || ((x as { _tag?: unknown })._tag === 'Right' && Object.hasOwn(x, 'right')))

/** No value (the same shape as fp-ts' `none`). */
export const none: Option<never> = Object.freeze({ _tag: 'None' }) as None

/**
 * A value.
 * @example some(1) // { _tag: 'Some', value: 1 }
 */
export const some = <A>(a: A): Option<A> => ({ _tag: 'Some', value: a })
