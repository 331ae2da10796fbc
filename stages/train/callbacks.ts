/**
 * Reduce-LR-on-plateau, early stopping and best-checkpoint selection, as pure state
 * machines over the monitored loss, following Keras's callbacks (mode "min"). Their
 * state is plain data, so a checkpoint can store it and a resumed run continues the
 * same counts.
 */

export interface ReduceLrParams {
  /** New lr = lr * factor. */
  readonly factor: number;
  /** Epochs without improvement before the lr is reduced. */
  readonly patience: number;
  /** The lr never goes below this. */
  readonly min_lr: number;
  /** An improvement must beat the best by more than this (absolute). */
  readonly min_delta: number;
}

export interface ReduceLrState {
  readonly best: number;
  readonly wait: number;
}

export const INITIAL_REDUCE_LR: ReduceLrState = { best: Infinity, wait: 0 };

export interface ReduceLrStep {
  readonly state: ReduceLrState;
  /** The lr for the next epoch. */
  readonly lr: number;
  readonly reduced: boolean;
}

/** Keras ReduceLROnPlateau.on_epoch_end (cooldown 0). */
export function reduceLrStep(params: ReduceLrParams, state: ReduceLrState, monitored: number, lr: number): ReduceLrStep {
  if (monitored < state.best - params.min_delta) return { state: { best: monitored, wait: 0 }, lr, reduced: false };
  const wait = state.wait + 1;
  if (wait < params.patience) return { state: { best: state.best, wait }, lr, reduced: false };
  if (lr > params.min_lr) {
    const next = Math.max(lr * params.factor, params.min_lr);
    return { state: { best: state.best, wait: 0 }, lr: next, reduced: next !== lr };
  }
  return { state: { best: state.best, wait }, lr, reduced: false };
}

export interface EarlyStoppingParams {
  /** Epochs without improvement before training stops. */
  readonly patience: number;
  /** An improvement must beat the best by more than this (absolute). */
  readonly min_delta: number;
}

export interface EarlyStoppingState {
  readonly best: number;
  readonly wait: number;
}

export const INITIAL_EARLY_STOPPING: EarlyStoppingState = { best: Infinity, wait: 0 };

export interface EarlyStoppingStep {
  readonly state: EarlyStoppingState;
  readonly stop: boolean;
}

/** Keras EarlyStopping.on_epoch_end; `epoch` is 0-based (Keras never stops after the first epoch). */
export function earlyStoppingStep(
  params: EarlyStoppingParams,
  state: EarlyStoppingState,
  monitored: number,
  epoch: number,
): EarlyStoppingStep {
  if (monitored < state.best - params.min_delta) return { state: { best: monitored, wait: 0 }, stop: false };
  const wait = state.wait + 1;
  return { state: { best: state.best, wait }, stop: wait >= params.patience && epoch > 0 };
}

/** Keras ModelCheckpoint(save_best_only): a strictly lower loss than every earlier epoch. */
export function isNewBest(best: number | null, monitored: number): boolean {
  return Number.isFinite(monitored) && (best === null || monitored < best);
}
