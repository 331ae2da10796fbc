/** Every built-in stage type. Modules here stay cheap to import (heavy code loads inside `run`). */
import type { StageType } from "../pipeline/stage.js";

export const builtinStageTypes: readonly StageType[] = [];
