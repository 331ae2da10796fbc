import { MuPipeError, type Failure } from "../pipeline/failure.js";

/** The typed failure a promise rejects with; anything else (or no rejection) fails the test. */
export async function failureOf(promise: Promise<unknown>): Promise<Failure> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof MuPipeError) return error.failure;
    throw error;
  }
  throw new Error("expected a MuPipeError");
}
