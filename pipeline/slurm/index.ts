/** Thin wrappers around Slurm's commands for the cluster executor. */
export { accountingStates, type AccountingRecord } from "./accounting.js";
export { slurmAvailable } from "./available.js";
export { cancelJobs } from "./cancel.js";
export { SlurmError, formatSlurmFailure, type SlurmFailure } from "./errors.js";
export { queueStates, type QueueState } from "./queue.js";
export { processSlurmRunner, type SlurmCommandResult, type SlurmRunner } from "./runner.js";
export { FAILED_STATES, classifyState, isFinal, normaliseState, parseExitCode, type ExitStatus, type FailedState, type JobPhase } from "./states.js";
export { batchScript, submitJob, type SubmitOptions, type SubmittedJob } from "./submit.js";
