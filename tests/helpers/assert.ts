/**
 * The assertions the tests use. JSR's @std/assert is out of reach here, so
 * this re-exports Node's deep-equality assertions (built into Deno) under the
 * std names, with a thrown-error helper that returns the error for checks.
 */
import nodeAssert from "node:assert/strict";

export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, message);
}

export function assertNotEquals<T>(actual: T, expected: T, message?: string): void {
  nodeAssert.notDeepStrictEqual(actual, expected, message);
}

export function assert(condition: unknown, message = "assertion failed"): asserts condition {
  nodeAssert.ok(condition, message);
}

export function assertMatch(actual: string, pattern: RegExp, message?: string): void {
  nodeAssert.match(actual, pattern, message);
}

export function assertStringIncludes(actual: string, expected: string, message?: string): void {
  if (!actual.includes(expected)) {
    throw new nodeAssert.AssertionError({
      message: message ??
        `expected ${JSON.stringify(actual)} to include ${JSON.stringify(expected)}`,
      actual,
      expected,
    });
  }
}

// deno-lint-ignore no-explicit-any
type ErrorClass<E> = new (...args: any[]) => E;

export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  errorClass?: ErrorClass<E>,
  messageIncludes?: string,
): E {
  try {
    fn();
  } catch (error) {
    if (errorClass && !(error instanceof errorClass)) {
      throw new nodeAssert.AssertionError({
        message: `expected ${errorClass.name}, got ${String(error)}`,
      });
    }
    if (messageIncludes && !String((error as Error).message).includes(messageIncludes)) {
      throw new nodeAssert.AssertionError({
        message: `error message ${JSON.stringify((error as Error).message)} lacks ${
          JSON.stringify(messageIncludes)
        }`,
      });
    }
    return error as E;
  }
  throw new nodeAssert.AssertionError({ message: "expected the function to throw" });
}

export async function assertRejects<E extends Error = Error>(
  fn: () => Promise<unknown>,
  errorClass?: ErrorClass<E>,
  messageIncludes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (error) {
    if (errorClass && !(error instanceof errorClass)) {
      throw new nodeAssert.AssertionError({
        message: `expected ${errorClass.name}, got ${String(error)}`,
      });
    }
    if (messageIncludes && !String((error as Error).message).includes(messageIncludes)) {
      throw new nodeAssert.AssertionError({
        message: `error message ${JSON.stringify((error as Error).message)} lacks ${
          JSON.stringify(messageIncludes)
        }`,
      });
    }
    return error as E;
  }
  throw new nodeAssert.AssertionError({ message: "expected the promise to reject" });
}
